namespace Observer.Replication;

public enum WatchMode
{
    /// <summary>NOTIFY where the primary offers it, otherwise IDLE.</summary>
    Auto,

    /// <summary>One NOTIFY connection for every mailbox (RFC 5465).</summary>
    Notify,

    /// <summary>IDLE on a bounded pool of connections, STATUS polling for the rest (RFC 2177).</summary>
    Idle,

    /// <summary>STATUS polling only.</summary>
    Poll,
}

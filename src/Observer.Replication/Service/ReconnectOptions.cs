namespace Observer.Replication;

/// <summary>Backoff between reconnect attempts (the Reconnect section of the configuration).</summary>
public sealed class ReconnectOptions
{
    public TimeSpan InitialDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Attempts `observer sync` makes before it gives up (run never gives up). 5 attempts wait about 30 s in all.</summary>
    public int SyncAttempts { get; set; } = 5;
}

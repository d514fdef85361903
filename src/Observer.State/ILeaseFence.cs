namespace Observer.State;

/// <summary>The leases this process holds, by account: what journal writes on a shared state are checked against.</summary>
public interface ILeaseFence
{
    /// <summary>This worker's id, as the lease rows name their owner.</summary>
    string Worker { get; }

    /// <summary>The fencing token of this worker's lease on <paramref name="account"/>, or null when it holds none.</summary>
    long? TokenOf(string account);
}

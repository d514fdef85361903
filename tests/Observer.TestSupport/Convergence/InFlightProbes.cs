namespace Observer.TestSupport;

/// <summary>
/// The INBOX UIDs of liveness probes on their way to the replica. The generator must not move or
/// expunge a probe before it arrives, or its lag could not be measured. A client picking INBOX
/// messages holds the gate while it searches, and the prober while it appends and learns the UID,
/// so no pick can see a probe that is not yet listed here.
/// </summary>
public sealed class InFlightProbes
{
    private readonly HashSet<uint> _uids = [];

    public SemaphoreSlim Gate { get; } = new(1, 1);

    public void Add(uint uid)
    {
        lock (_uids) _uids.Add(uid);
    }

    public void Remove(uint uid)
    {
        lock (_uids) _uids.Remove(uid);
    }

    public bool Contains(uint uid)
    {
        lock (_uids) return _uids.Contains(uid);
    }
}

using Observer.Replication;
using Observer.Commands;
using Observer.State;

namespace Observer.Monitoring;

/// <summary>
/// How healthy one replica of one account is, from what the service last recorded of it. The service runs when some
/// replica's heartbeat is fresh; an account it polls rather than watches has none of its own, and is judged by its
/// last pass, as is every replica of settings only ever synced by one-shot `observer sync`.
/// </summary>
/// <param name="anyHost">On a shared state the worker may run on another box: its heartbeat alone says it is alive.</param>
internal sealed class StatusHealth(ServiceRecord? service, DateTimeOffset now, bool serviceRunning = false, bool serviceEverRan = false, bool anyHost = false)
{
    /// <summary>The service writes a heartbeat every few seconds; this much silence means it is gone or stuck.</summary>
    private static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(30);

    /// <summary>What the engine records when it stops on request.</summary>
    private const string StoppedState = "stopped";

    /// <summary>Whether this replica's own engine is running live (its heartbeat is fresh and its process alive).</summary>
    public bool ServiceAlive { get; } = IsAlive(service, now, anyHost);

    private bool StoppedCleanly => service is null || service.PrimaryState == StoppedState;

    public static bool IsAlive(ServiceRecord? service, DateTimeOffset now, bool anyHost = false) =>
        service is { HeartbeatAt: { } beat, Pid: { } pid } && now - beat < StaleAfter && (anyHost || IsAlive(pid));

    public string DescribeService()
    {
        if (ServiceAlive) return $"running (pid {service!.Pid}, watching with {service.WatchMode}, last heartbeat {(now - service.HeartbeatAt!.Value).TotalSeconds:0} s ago)";
        if (serviceRunning) return "running (this one polled, not watched)";
        if (service?.HeartbeatAt is not { } beat) return "not running";
        return StoppedCleanly
            ? $"not running (stopped {StatusCommand.Format(beat)})"
            : $"not running (last heartbeat {StatusCommand.Format(beat)}; it did not stop cleanly)";
    }

    /// <param name="caughtUp">Every folder synced, no change waiting and no write left in doubt.</param>
    public List<HealthProblem> Problems(IReadOnlyList<TroubleRecord> troubles, IReadOnlyList<HoldRecord> holds, bool caughtUp)
    {
        var problems = new List<HealthProblem>();
        var held = holds.Select(h => h.Folder).Distinct().Count();
        if (held > 0) problems.Add(new($"{Folders(held)} with deletions held by the delete guard", HealthLevel.Attention));
        if (troubles.Count > 0) problems.Add(new($"{Folders(troubles.Count)} in trouble", HealthLevel.Attention));
        if (ServiceAlive)
        {
            if (IsDown(service!.PrimaryState)) problems.Add(new("the primary is unavailable", HealthLevel.Down));
            if (IsDown(service.ReplicaState)) problems.Add(new("the replica is unavailable", HealthLevel.Down));
            return problems;
        }
        // A polled account of a running service: its last poll says how it fares.
        if (serviceRunning && service is { WatchMode: ReplicationEngine.PolledMode, LastError: { } failed }) problems.Add(new($"its last poll failed: {failed}", HealthLevel.Down));
        // Stopped on an error no retry can fix (a refused login): with several accounts, the others may well run on.
        else if (service?.LastError is { } why && StoppedCleanly) problems.Add(new($"replication stopped: {why}", HealthLevel.Down));
        else if (!serviceRunning && !StoppedCleanly) problems.Add(new("the service is not running, and it did not stop cleanly", HealthLevel.Down));
        else if (!serviceRunning && serviceEverRan) problems.Add(new("the service is not running", HealthLevel.Down));
        if (!caughtUp) problems.Add(new(serviceRunning ? "its last poll did not complete" : "the last sync did not complete; run observer sync or observer run", HealthLevel.Attention));
        return problems;
    }

    private static bool IsDown(string? state) => state?.StartsWith("unavailable", StringComparison.Ordinal) == true;

    private static string Folders(int n) => n == 1 ? "1 folder" : $"{n} folders";

    /// <summary>Whether a process of this pid exists now (the service's, as its heartbeat or beacon names it).</summary>
    internal static bool IsAlive(int pid) => Processes.IsAlive(pid);
}

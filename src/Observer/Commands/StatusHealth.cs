using Observer.State;

namespace Observer.Commands;

/// <summary>
/// Whether `observer status` calls the replica healthy (exit 0) or in need of attention (exit 1), and why.
/// Healthy: the service is running with both servers reachable, or it is not running and the last sync
/// completed; and no folder is in trouble or held.
/// </summary>
internal sealed class StatusHealth(ServiceRecord? service, DateTimeOffset now)
{
    /// <summary>The service writes a heartbeat every few seconds; this much silence means it is gone or stuck.</summary>
    private static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(30);

    /// <summary>What the engine records when it stops on request.</summary>
    private const string StoppedState = "stopped";

    public bool ServiceAlive { get; } =
        service is { HeartbeatAt: { } beat, Pid: { } pid } && now - beat < StaleAfter && IsAlive(pid);

    private bool StoppedCleanly => service is null || service.PrimaryState == StoppedState;

    public string DescribeService()
    {
        if (service?.HeartbeatAt is not { } beat) return "not running";
        if (ServiceAlive) return $"running (pid {service.Pid}, watching with {service.WatchMode}, last heartbeat {(now - beat).TotalSeconds:0} s ago)";
        return StoppedCleanly
            ? $"not running (stopped {StatusCommand.Format(beat)})"
            : $"not running (last heartbeat {StatusCommand.Format(beat)}; it did not stop cleanly)";
    }

    /// <param name="caughtUp">Every folder synced, no change waiting and no write left in doubt.</param>
    public List<string> Problems(IReadOnlyList<TroubleRecord> troubles, IReadOnlyList<HoldRecord> holds, bool caughtUp)
    {
        var problems = new List<string>();
        var held = holds.Select(h => h.Folder).Distinct().Count();
        if (held > 0) problems.Add($"{Folders(held)} with deletions held by the delete guard (see above)");
        if (troubles.Count > 0) problems.Add($"{Folders(troubles.Count)} in trouble");
        if (ServiceAlive)
        {
            if (IsDown(service!.PrimaryState)) problems.Add("the primary is unavailable");
            if (IsDown(service.ReplicaState)) problems.Add("the replica is unavailable");
            return problems;
        }
        if (!StoppedCleanly) problems.Add("the service is not running, and it did not stop cleanly");
        // Stopped on an error no retry can fix (a refused login): with several accounts, the others may well run on.
        else if (service?.LastError is { } why) problems.Add($"replication stopped: {why}");
        if (!caughtUp) problems.Add("the last sync did not complete; run observer sync or observer run");
        return problems;
    }

    private static bool IsDown(string? state) => state?.StartsWith("unavailable", StringComparison.Ordinal) == true;

    private static string Folders(int n) => n == 1 ? "1 folder" : $"{n} folders";

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

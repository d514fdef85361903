using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>Observer itself, with its shipped defaults (MD5 verification of every copy on).</summary>
internal class ObserverTool : SyncTool
{
    public override string Id => "observer";

    public override string Name => "observer";

    /// <summary>bench/run.sh points this at a published (ReadyToRun) build, as Observer ships; else the Release build.</summary>
    protected override string Program => Environment.GetEnvironmentVariable("OBSERVER_BENCH_BINARY") is { Length: > 0 } published ? published : ObserverProcess.Executable;

    public override string? Missing => File.Exists(Program) ? null : $"{Program} is missing; build with `dotnet build -c Release`";

    public override ProcessSpec OneShot(PairAccounts accounts, string work) =>
        new(Program, ["sync", "--config", Settings(accounts, work, null)], work);

    public override ProcessSpec? Watch(PairAccounts accounts, string work) => Watch(accounts, work, null);

    /// <param name="replicaPort">Another port for the replica, such as a proxy's.</param>
    public ProcessSpec Watch(PairAccounts accounts, string work, int? replicaPort) =>
        new(Program, ["run", "--config", Settings(accounts, work, replicaPort)], work);

    public override string WatchNote => "observer run (NOTIFY)";

    /// <summary>Settings beyond the defaults, for variants.</summary>
    protected virtual IEnumerable<KeyValuePair<string, string>> Extra => [];

    private string Settings(PairAccounts accounts, string work, int? replicaPort)
    {
        var settings = accounts.Settings(Path.Combine(work, "observer.db"));
        if (replicaPort is { } port) settings["Replica:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Logging:LogLevel:Default"] = "Warning";
        foreach (var (key, value) in Extra) settings[key] = value;
        var path = Path.Combine(work, "observer.json");
        ObserverProcess.WriteSettings(settings, path);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }
}

/// <summary>Observer with the low-latency mode on INBOX: NOOP every 50 ms on top of NOTIFY.</summary>
internal sealed class ObserverLowLatencyTool : ObserverTool
{
    public override string Id => "observer-lowlatency";

    public override string Name => "observer low-latency";

    protected override IEnumerable<KeyValuePair<string, string>> Extra =>
        [new("Replication:LowLatency:Enabled", "true")];

    public override string WatchNote => "observer run, LowLatency on INBOX (NOOP every 50 ms)";
}

/// <summary>
/// A published build of an earlier commit (`bench/run.sh --before COMMIT`), run beside today's in the
/// same session, so that a change's before and after share one machine, one load and one set of peers.
/// </summary>
internal sealed class ObserverBeforeTool : ObserverTool
{
    public override string Id => "observer-before";

    public override string Name => Environment.GetEnvironmentVariable("OBSERVER_BENCH_BEFORE_NAME") is { Length: > 0 } name ? $"observer {name}" : "observer before";

    protected override string Program => Environment.GetEnvironmentVariable("OBSERVER_BENCH_BEFORE_BINARY") ?? "";

    public override string? Missing => Program.Length == 0 ? "no earlier build given (bench/run.sh --before COMMIT)"
        : File.Exists(Program) ? null : $"{Program} is missing";

    public override string WatchNote => $"{Name} run (NOTIFY)";
}

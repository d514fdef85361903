using System.Text;

namespace Observer.TestSupport;

/// <summary>
/// Runs `observer run` behind fault proxies and breaks it on demand: SIGKILL followed by an
/// immediate restart, or a connection cut. Each fault is timed until observer works again, so that
/// probes sent meanwhile are judged fairly.
/// </summary>
public sealed class FaultInjector : IAsyncDisposable
{
    private const string Watching = "watching the primary with";
    private static readonly string[] Restarts = ["connection lost", "interrupted:"];
    private readonly IReadOnlyDictionary<string, string> _settings;
    private readonly string _workDirectory;
    private readonly MutationLog _log;
    private readonly StringBuilder _earlier = new();
    private readonly object _lock = new();
    private bool _stopped;

    public FaultInjector(IReadOnlyDictionary<string, string> settings, string workDirectory, FaultProxy primaryProxy, FaultProxy replicaProxy, MutationLog log)
    {
        _settings = settings;
        _workDirectory = workDirectory;
        PrimaryProxy = primaryProxy;
        ReplicaProxy = replicaProxy;
        _log = log;
        Observer = ObserverProcess.Start("run", settings, workDirectory);
    }

    /// <summary>Observer's settings, to run its other commands (status, approve) on the same state.</summary>
    public IReadOnlyDictionary<string, string> Settings => _settings;

    public string WorkDirectory => _workDirectory;

    public FaultProxy PrimaryProxy { get; }
    public FaultProxy ReplicaProxy { get; }

    /// <summary>The observer process running now.</summary>
    public ObserverProcess Observer { get; private set; }

    public List<FaultWindow> Windows { get; } = [];

    public int Kills { get; private set; }

    /// <summary>The most memory any killed observer process held.</summary>
    public long PeakMemory { get; private set; }

    public int Cuts { get; private set; }

    /// <summary>Everything every observer process of this run wrote to stderr, oldest first.</summary>
    public string AllErrors
    {
        get
        {
            lock (_lock) return _earlier + (_stopped ? "" : Observer.Errors);
        }
    }

    /// <summary>Waits until observer says it watches the primary (after its first pass); false after <paramref name="within"/>.</summary>
    public Task<DateTime?> WaitUntilWatchingAsync(DateTime since, TimeSpan within) => WaitForLineAsync(since, within, Watching);

    /// <summary>SIGTERM, as a service manager stops it; returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        PeakMemory = Math.Max(PeakMemory, Observer.PeakMemory);
        Observer.Terminate();
        var code = await Observer.WaitForExitAsync(TimeSpan.FromSeconds(60));
        lock (_lock)
        {
            _earlier.Append(Observer.Errors).AppendLine($"---- observer stopped (SIGTERM) at {DateTime.Now:HH:mm:ss.fff}, exit code {code} ----");
            _stopped = true;
        }
        return code;
    }

    /// <summary>Starts observer again after <see cref="StopAsync"/>.</summary>
    public void Start()
    {
        lock (_lock)
        {
            Observer = ObserverProcess.Start("run", _settings, _workDirectory);
            _stopped = false;
        }
    }

    /// <summary>SIGKILL, then a new process at once; the fault lasts until the new one watches the primary again.</summary>
    public async Task<FaultWindow> KillAndRestartAsync()
    {
        PeakMemory = Math.Max(PeakMemory, Observer.PeakMemory);
        var start = DateTime.Now;
        Observer.Kill();
        await Observer.DisposeAsync();
        lock (_lock)
        {
            _earlier.Append(Observer.Errors).AppendLine($"---- observer killed (SIGKILL) at {start:HH:mm:ss.fff}; restarted ----");
            Observer = ObserverProcess.Start("run", _settings, _workDirectory);
        }
        Kills++;
        var end = await WaitUntilWatchingAsync(start, TimeSpan.FromSeconds(90));
        return Record("SIGKILL and restart", start, end, end is null ? "did not watch the primary again within 90 s" : null);
    }

    /// <summary>
    /// Closes one of observer's connections through a proxy (or all of them). The fault lasts until
    /// observer opened a new connection through it; when observer restarted its live phase for
    /// it, until it watches the primary again.
    /// </summary>
    public async Task<FaultWindow> CutAsync(bool primary, bool all, Random random)
    {
        var proxy = primary ? PrimaryProxy : ReplicaProxy;
        var accepted = proxy.Accepted;
        var start = DateTime.Now;
        var what = $"cut {(all ? "every connection" : "one connection")} to the {(primary ? "primary" : "replica")}";
        if ((all ? proxy.CutAll() : proxy.CutOne(random) ? 1 : 0) == 0) return Record(what + " (none open)", start, start, null);
        Cuts++;
        // A connection that was not in use is noticed only when next used: then there is nothing to recover from yet.
        DateTime? reconnected = null;
        for (var waited = 0; waited < 100 && reconnected is null; waited++)
        {
            if (proxy.Accepted > accepted) reconnected = DateTime.Now;
            else await Task.Delay(50);
        }
        var end = reconnected ?? start;
        if (Restarts.Any(r => ObserverLog.First(Observer.Errors, start, r) is not null))
            end = await WaitForLineAsync(start, TimeSpan.FromSeconds(90), Watching) ?? DateTime.Now;
        return Record(what, start, end, null);
    }

    /// <summary>Stops forwarding on every connection to one side for a while without closing any; the fault lasts that long.</summary>
    public async Task<FaultWindow> StallAsync(bool primary, TimeSpan duration)
    {
        var start = DateTime.Now;
        (primary ? PrimaryProxy : ReplicaProxy).StallFor(duration);
        await Task.Delay(duration);
        return Record($"stall every connection to the {(primary ? "primary" : "replica")} for {duration.TotalSeconds:0.0} s", start, DateTime.Now, null);
    }

    private FaultWindow Record(string fault, DateTime start, DateTime? end, string? problem)
    {
        var window = new FaultWindow(fault, start, end ?? DateTime.Now);
        lock (Windows) Windows.Add(window);
        _log.Record("faults", $"{fault}; observer working again after {window.Recovery.TotalSeconds:0.0} s{(problem is null ? "" : " — " + problem)}");
        return window;
    }

    private async Task<DateTime?> WaitForLineAsync(DateTime since, TimeSpan within, string text)
    {
        var deadline = DateTime.Now + within;
        while (DateTime.Now < deadline)
        {
            if (ObserverLog.First(Observer.Errors, since, text) is { } line) return line.Time;
            if (Observer.HasExited) return null;
            await Task.Delay(100);
        }
        return null;
    }

    public async ValueTask DisposeAsync() => await Observer.DisposeAsync();
}

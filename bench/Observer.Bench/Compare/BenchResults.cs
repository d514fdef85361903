namespace Observer.Bench;

/// <summary>
/// One timed one-shot run of a tool in a copy phase, with the CPU both servers used meanwhile: on a small box the
/// servers' work, not the tool's, sets the pace, and doveadm backup does the replica's share itself (it writes its store).
/// </summary>
internal sealed record CopyRun(string Corpus, string Phase, string Tool, int Run, TimedResult Result, Exactness? Check, double ServerCpuSeconds);

/// <summary>Live propagation lag of one tool in its watch mode, and what it costs at rest.</summary>
internal sealed record LagResult(string Tool, string Mode, List<double> Appends, List<double> Flags, int Lost,
    double ToolIdleCpuPerMinute, double ServerIdleCpuPerMinute, long Rss, string? Failure);

/// <summary>The cost of watching many idle folders.</summary>
internal sealed record SteadyResult(string Tool, string Mode, int Folders, double? FirstSyncSeconds, double ToolCpuPerMinute,
    double ServerCpuPerMinute, long Rss, int Connections, string? Failure);

/// <summary>Time to catch up on changes made while the replica was away.</summary>
internal sealed record CatchUpResult(string Tool, string Mode, int Changes, double? Seconds, Exactness? Check, string? Failure);

/// <summary>A corpus as generated: for throughput figures.</summary>
internal sealed record CorpusInfo(string Name, int Messages, int Folders, long Bytes);

/// <summary>Everything one `compare` invocation measured.</summary>
internal sealed class BenchResults
{
    public DateTimeOffset Started { get; } = DateTimeOffset.Now;
    public List<CorpusInfo> Corpora { get; } = [];
    public List<CopyRun> Copies { get; } = [];
    public List<LagResult> Lag { get; } = [];
    public List<SteadyResult> Steady { get; } = [];
    public List<CatchUpResult> CatchUp { get; } = [];
    public Dictionary<string, string> Versions { get; } = new(StringComparer.Ordinal);

    /// <summary>The primary's and the replica's kinds, such as Cyrus→Dovecot.</summary>
    public string Pair { get; set; } = "Dovecot→Dovecot";
    public List<string> Skipped { get; } = [];
    public List<string> Notes { get; } = [];
}

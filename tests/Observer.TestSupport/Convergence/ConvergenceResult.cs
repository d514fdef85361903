using System.Globalization;
using System.Text;

namespace Observer.TestSupport;

/// <summary>A probe judged: the lag allowed (the budget plus the recovery time of faults it met) and whether it missed.</summary>
public sealed record JudgedProbe(Probe Probe, TimeSpan Allowed, IReadOnlyList<FaultWindow> Faults)
{
    public bool Missed => Probe.Lag is not { } lag || lag > Allowed;
}

/// <summary>What one run of the convergence scenario found: measurements, and the broken invariants in <see cref="Failures"/>.</summary>
public sealed class ConvergenceResult(ConvergenceOptions options)
{
    public ConvergenceOptions Options { get; } = options;
    public List<string> Failures { get; } = [];
    public Dictionary<string, int> Mutations { get; } = [];
    public int Refused { get; set; }
    public int LogCount { get; set; }
    public IReadOnlyList<string> LastMutations { get; set; } = [];
    public IReadOnlyList<FaultWindow> Faults { get; set; } = [];
    public int Kills { get; set; }
    public int Cuts { get; set; }
    public List<JudgedProbe> Probes { get; } = [];
    public List<string> Differences { get; set; } = [];
    public List<Duplicate> Duplicates { get; } = [];
    public List<(string Line, int Count)> RepeatedLines { get; set; } = [];
    /// <summary>Warnings of the guard holding deletions, over the whole run.</summary>
    public int HoldWarnings { get; set; }

    /// <summary>Held deletions approved after the activity, while waiting for convergence.</summary>
    public int ApprovedAfterActivity { get; set; }

    /// <summary>Messages deleted behind observer's back, held, approved and then deleted on the replica too (0 if that step failed).</summary>
    public int MassDeleted { get; set; }

    /// <summary>Whether `observer status` listed the held deletion.</summary>
    public bool StatusListsHold { get; set; }

    /// <summary>Replica copies in a form their server stores (NUL as 0x80, CRLF lines, 8-bit header bytes as 'X').</summary>
    public int StoredAltered { get; set; }

    public int PrimaryMessages { get; set; }
    public int PrimaryFolders { get; set; }
    public TimeSpan Duration { get; set; }
    /// <summary>How long after the activity the replica equaled the primary; null if it never did.</summary>
    public TimeSpan? Settle { get; set; }
    public double QuietCpuSecondsPerMinute { get; set; }
    /// <summary>Everything observer wrote to stderr, over all its processes.</summary>
    public string ObserverLog { get; set; } = "";
    public long PeakObserverMemory { get; set; }
    public string PrimaryCapabilities { get; set; } = "";
    public string ReplicaCapabilities { get; set; } = "";

    public int MutationCount => Mutations.Values.Sum();

    public bool Passed => Failures.Count == 0;

    /// <summary>Judges each probe: a probe whose flight met a fault (from 1 s before it was sent until it arrived) is allowed that fault's recovery time on top of the budget.</summary>
    public void Judge(IEnumerable<Probe> probes, IReadOnlyList<FaultWindow> faults, TimeSpan budget)
    {
        foreach (var probe in probes)
        {
            var until = probe.Sent + (probe.Lag ?? LivenessProber.GiveUp);
            var met = faults.Where(f => f.Overlaps(probe.Sent.AddSeconds(-1), until)).ToList();
            Probes.Add(new JudgedProbe(probe, budget + met.Aggregate(TimeSpan.Zero, (sum, f) => sum + f.Recovery), met));
        }
    }

    public string Summary()
    {
        var lags = Probes.Where(p => p.Probe.Lag is not null).Select(p => p.Probe.Lag!.Value.TotalSeconds).Order().ToList();
        var median = lags.Count == 0 ? double.NaN : lags[lags.Count / 2];
        var max = lags.Count == 0 ? double.NaN : lags[^1];
        var clear = Probes.Where(p => p.Faults.Count == 0).ToList();
        return string.Create(CultureInfo.InvariantCulture,
            $"{Options.Pair} seed {Options.Seed}: {(Passed ? "PASS" : "FAIL")} in {Duration.TotalSeconds:0} s; {MutationCount} mutations "
            + $"({string.Join(", ", Mutations.OrderBy(m => m.Key).Select(m => $"{m.Key} {m.Value}"))}; {Refused} refused by the server); "
            + $"faults: {Cuts} cuts, {Kills} SIGKILLs; probes: {Probes.Count} ({clear.Count} clear of faults), lag median {median:0.00} s, max {max:0.00} s, "
            + $"{Probes.Count(p => p.Missed)} missed; {(Settle is { } settle ? $"settled {settle.TotalSeconds:0.0} s after the activity stopped" : "never settled")}; "
            + $"guard: {HoldWarnings} hold warnings, {ApprovedAfterActivity} held deletions approved after the activity; "
            + $"{(MassDeleted > 0 ? $"mass delete of {MassDeleted} held, {(StatusListsHold ? "listed" : "NOT listed")} by status, approved" : "no mass delete")}; "
            + $"observer CPU when quiet {QuietCpuSecondsPerMinute:0.00} s/min, peak memory {PeakObserverMemory / 1048576.0:0} MB; primary holds {PrimaryMessages} messages in {PrimaryFolders} folders, {StoredAltered} stored altered by the replica's server");
    }

    /// <summary>The whole story: the summary, what failed, and what to replay it with.</summary>
    public string Report()
    {
        var sb = new StringBuilder();
        sb.AppendLine(Summary());
        sb.AppendLine(CultureInfo.InvariantCulture, $"primary capabilities: {PrimaryCapabilities}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"replica capabilities: {ReplicaCapabilities}");
        foreach (var failure in Failures) sb.AppendLine("FAILED: " + failure);
        // One line each, for a reader who sees only a digest of the run (CI's tail).
        if (Differences.Count > 0) sb.AppendLine("first differences: " + string.Join("; ", Differences.Take(3)));
        var warnings = Observer.TestSupport.ObserverLog.Parse(ObserverLog).Where(l => l.Text.StartsWith("warn", StringComparison.Ordinal) || l.Text.StartsWith("fail", StringComparison.Ordinal)).TakeLast(3).ToList();
        if (!Passed && warnings.Count > 0) sb.AppendLine("observer's last warnings: " + string.Join(" | ", warnings.Select(w => $"{w.Time:HH:mm:ss.fff} {w.Text}")));
        if (Differences.Count > 0) sb.AppendLine($"differences ({Differences.Count}):").AppendLine("  " + string.Join("\n  ", Differences.Take(40)));
        if (Duplicates.Count > 0) sb.AppendLine("duplicates:").AppendLine("  " + string.Join("\n  ", Duplicates.Take(20)));
        foreach (var (line, count) in RepeatedLines) sb.AppendLine(CultureInfo.InvariantCulture, $"log line repeated {count} times in a minute: {line}");
        sb.AppendLine("faults:");
        foreach (var f in Faults) sb.AppendLine(CultureInfo.InvariantCulture, $"  {f.Start:HH:mm:ss.fff} {f.Fault}: recovered in {f.Recovery.TotalSeconds:0.0} s");
        sb.AppendLine("probes:");
        foreach (var p in Probes)
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"  #{p.Probe.Number} {p.Probe.Sent:HH:mm:ss.fff} lag {(p.Probe.Lag is { } l ? $"{l.TotalSeconds:0.00} s" : "none")} (allowed {p.Allowed.TotalSeconds:0.0} s{(p.Faults.Count > 0 ? ", met " + string.Join(", ", p.Faults.Select(f => f.Fault)) : "")}){(p.Missed ? " MISSED" : "")}");
        if (!Passed)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"replay: seed {Options.Seed}, pair {Options.Pair}, {LogCount} entries logged; the last ones:");
            foreach (var m in LastMutations) sb.AppendLine("  " + m);
            sb.AppendLine("observer's log, last lines:").AppendLine(string.Join('\n', ObserverLog.Split('\n').TakeLast(60)));
        }
        return sb.ToString();
    }
}

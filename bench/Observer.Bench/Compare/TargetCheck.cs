using System.Globalization;

namespace Observer.Bench;

/// <summary>The targets, each compared with what this run measured.</summary>
internal sealed class TargetCheck(BenchResults results)
{
    public sealed record Row(string Name, string Goal, string Measured, bool? Met);

    private const string Observer = PeerRatios.Observer;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public List<Row> Rows()
    {
        var rows = PeerRatios.All(results).Select(AgainstPeers).OfType<Row>().ToList();
        Add(rows, InitialMixed());
        Add(rows, NoopLarge());
        Add(rows, LargeMemory());
        Add(rows, Exactness());
        var live = results.Lag.FirstOrDefault(l => l.Tool == Observer);
        if (live is not null)
        {
            rows.Add(Lag("Live lag with push: appends", live.Appends, live.Lost));
            rows.Add(Lag("Live lag with push: flag changes", live.Flags, live.Lost));
            rows.Add(new Row("Idle cost while watching", "< 1 CPU-s/min", $"{live.ToolIdleCpuPerMinute:0.00} CPU-s/min", live.ToolIdleCpuPerMinute < 1));
        }
        var fast = results.Lag.FirstOrDefault(l => l.Tool == "observer low-latency");
        if (fast is not null)
        {
            var appends = Stats.Percentile(fast.Appends, 50);
            var flags = Stats.Percentile(fast.Flags, 50);
            rows.Add(new Row("Low-latency mode (INBOX)", "median ≤ 0.100 s, appends and flags; CPU both sides reported",
                string.Create(Inv, $"appends {appends:0.000} s, flags {flags:0.000} s; idle CPU observer {fast.ToolIdleCpuPerMinute:0.00}, servers {fast.ServerIdleCpuPerMinute:0.00} s/min"),
                appends <= 0.1 && flags <= 0.1));
        }
        var steady = results.Steady.FirstOrDefault(s => s.Tool == Observer);
        if (steady is not null)
        {
            rows.Add(new Row($"Steady state, {steady.Folders:N0} idle folders", "< 1 CPU-s/min and < 150 MB RSS",
                string.Create(Inv, $"{steady.ToolCpuPerMinute:0.00} CPU-s/min, {steady.Rss / 1048576.0:0} MB, {steady.Connections} connections"),
                steady.Failure is null && steady.ToolCpuPerMinute < 1 && steady.Rss < 150L * 1048576));
        }
        return rows;
    }

    private static void Add(List<Row> rows, Row? row)
    {
        if (row is not null) rows.Add(row);
    }

    private IEnumerable<CopyRun> Runs(string corpus, string phase, string tool) =>
        results.Copies.Where(c => c.Corpus == corpus && c.Phase == phase && c.Tool == tool);

    /// <summary>Every copy phase, and the catch-up: at most 0.8 × the fastest exact peer, MD5 verification on.</summary>
    private static Row? AgainstPeers(PeerRatios.Phase phase)
    {
        var name = char.ToUpperInvariant(phase.Label[0]) + phase.Label[1..];
        if (phase.Tools.FirstOrDefault(t => t.Tool == Observer) is not { Tool: not null } observer) return null;
        if (phase.FastestPeer is not { } peer || phase.Ratio(Observer) is not { } ratio)
            return new Row(name, "≤ 0.8 × the fastest exact peer", $"observer {observer.Median:0.00} s; no exact peer measured", null);
        return new Row(name, "≤ 0.8 × the fastest exact peer",
            string.Create(Inv, $"observer {observer.Median:0.00} s, {peer.Tool} {peer.Median:0.00} s: {ratio:0.00}×"), ratio <= 0.8);
    }

    private Row? InitialMixed()
    {
        var runs = Runs("mixed", "initial", Observer).Where(r => r.Result.Succeeded).ToList();
        var corpus = results.Corpora.FirstOrDefault(c => c.Name == "mixed");
        if (runs.Count == 0 || corpus is null) return null;
        var speed = corpus.Bytes / 1048576.0 / CompareReport.Median(runs)!.Value;
        var mixedRss = runs.Max(r => r.Result.PeakRss);
        var smallRuns = Runs("small", "initial", Observer).Where(r => r.Result.Succeeded).ToList();
        var smallRss = smallRuns.Count == 0 ? (long?)null : smallRuns.Max(r => r.Result.PeakRss);
        // Flat: messages 500 times larger may not cost much more memory than small ones: half as much
        // again, or 64 MB (a native build starts so small, 55 MB, that half of it is less than one message in flight).
        var flat = smallRss is null || mixedRss - smallRss <= Math.Max(smallRss.Value / 2, 64L * 1048576);
        return new Row("Initial copy, mixed", "≥ 60 MB/s, peak RSS flat in message size",
            string.Create(Inv, $"{speed:0.0} MB/s; peak RSS {mixedRss / 1048576.0:0} MB (small corpus: {(smallRss is { } s ? $"{s / 1048576.0:0} MB" : "-")})"),
            speed >= 60 && flat);
    }

    private Row? NoopLarge()
    {
        var median = CompareReport.Median(Runs("large", "noop", Observer));
        return median is null ? null : new Row("No-op re-run, 100,000 messages", "< 1 s (QRESYNC)", $"{median:0.00} s", median < 1);
    }

    private Row? LargeMemory()
    {
        var runs = Runs("large", "initial", Observer).Where(r => r.Result.Succeeded).ToList();
        if (runs.Count == 0) return null;
        var peak = runs.Max(r => r.Result.PeakRss);
        return new Row("Memory, 100,000-message copy", "peak RSS < 150 MB", $"{peak / 1048576.0:0} MB", peak < 150L * 1048576);
    }

    private Row? Exactness()
    {
        var checkedRuns = results.Copies.Where(c => c.Tool == Observer && c.Check is not null).ToList();
        if (checkedRuns.Count == 0) return null;
        var exact = checkedRuns.Count(c => c.Check!.Exact);
        return new Row("Observer's copies exact", "every run: bytes, flags, keywords, dates", $"{exact} of {checkedRuns.Count} runs exact", exact == checkedRuns.Count);
    }

    private static Row Lag(string name, List<double> samples, int lost)
    {
        if (samples.Count == 0) return new Row(name, "median ≤ 0.55 s, p99 ≤ 0.9 s, max ≤ 1.5 s", "no samples", false);
        var (median, p99, max) = (Stats.Percentile(samples, 50), Stats.Percentile(samples, 99), samples.Max());
        return new Row(name, "median ≤ 0.55 s, p99 ≤ 0.9 s, max ≤ 1.5 s",
            string.Create(Inv, $"{median:0.000} / {p99:0.000} / {max:0.000} s ({samples.Count} samples, {lost} not seen)"),
            median <= 0.55 && p99 <= 0.9 && max <= 1.5 && lost == 0);
    }
}

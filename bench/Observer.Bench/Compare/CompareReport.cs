using System.Globalization;
using System.Text;

namespace Observer.Bench;

/// <summary>The Markdown report of one `compare` run: the tables, the targets, met or missed.</summary>
internal sealed class CompareReport(BenchResults results, CompareOptions options)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private const string Observer = "observer";

    public string Render(string? plotFile)
    {
        var sb = new StringBuilder();
        sb.AppendLine(Inv, $"## Benchmark: Observer and its peers, {results.Started:yyyy-MM-dd HH:mm}");
        sb.AppendLine();
        sb.AppendLine(Inv, $"{Environment.ProcessorCount} cores, {Machine.MemoryGiB:0} GiB, {Machine.CpuModel}; {ServersLine(results)} and every tool on this one box, over loopback.");
        sb.AppendLine(Inv, $"Every copy phase is a whole process, {options.Runs} runs ({options.LargeRuns} for large): median, with min-max. Seed {options.Seed}.");
        sb.AppendLine("\"Result\" compares every message of the two accounts: MD5 of the raw bytes, system flags, keywords and internal date.");
        sb.AppendLine();
        var peers = results.Versions.Where(v => v.Key != "dovecot").Select(v => $"{v.Key} {v.Value}").ToList();
        // A run of Observer's builds alone has no peer versions to name.
        if (peers.Count > 0) sb.AppendLine("Versions: " + string.Join(", ", peers) + ".");
        foreach (var skipped in results.Skipped) sb.AppendLine(Inv, $"- skipped: {skipped}");
        sb.AppendLine();
        sb.AppendLine("| corpus | messages | folders | size |");
        sb.AppendLine("|---|---:|---:|---:|");
        foreach (var c in results.Corpora) sb.AppendLine(Inv, $"| {c.Name} | {c.Messages:N0} | {c.Folders} | {c.Bytes / 1048576.0:0.0} MB |");
        sb.AppendLine();

        foreach (var (phase, title) in new[] { ("initial", "Initial copy into an empty replica"), ("noop", "No-op re-run on an unchanged pair"), ("incremental", $"Incremental run after {options.Mutations} mixed changes") })
        {
            var runs = results.Copies.Where(c => c.Phase == phase).ToList();
            if (runs.Count == 0) continue;
            sb.AppendLine(Inv, $"### {title}");
            sb.AppendLine();
            sb.AppendLine("| corpus | tool | time s | vs observer | MB/s | CPU s | servers' CPU s | peak RSS MB | result |");
            sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---|");
            foreach (var corpus in results.Corpora.Select(c => c.Name))
            {
                var byTool = runs.Where(r => r.Corpus == corpus).GroupBy(r => r.Tool).ToList();
                var reference = Median(byTool.FirstOrDefault(g => g.Key == Observer));
                foreach (var group in byTool)
                {
                    var ok = group.Where(r => r.Result.Succeeded).ToList();
                    var median = Median(group);
                    var bytes = results.Corpora.Single(c => c.Name == corpus).Bytes;
                    var time = median is { } m ? $"{m:0.00} ({ok.Min(r => r.Result.WallSeconds):0.00}-{ok.Max(r => r.Result.WallSeconds):0.00})" : "-";
                    var ratio = median is { } t && reference is { } o && o > 0 ? $"{t / o:0.00}x" : "-";
                    var speed = phase == "initial" && median is { } s && s > 0 ? $"{bytes / 1048576.0 / s:0.0}" : "-";
                    var cpu = ok.Count > 0 ? $"{MedianOf(ok.Select(r => r.Result.CpuSeconds)):0.0}" : "-";
                    var serverCpu = ok.Count > 0 ? $"{MedianOf(ok.Select(r => r.ServerCpuSeconds)):0.0}" : "-";
                    var rss = ok.Count > 0 ? $"{ok.Max(r => r.Result.PeakRss) / 1048576.0:0}" : "-";
                    sb.AppendLine(Inv, $"| {corpus} | {group.Key} | {time} | {ratio} | {speed} | {cpu} | {serverCpu} | {rss} | {Outcome(group.ToList())} |");
                }
            }
            sb.AppendLine();
        }

        if (results.Lag.Count > 0)
        {
            sb.AppendLine(Inv, $"### Live propagation lag ({options.LagProbes} appends, then {options.LagProbes} flag changes, by another client; then {options.IdleWindow.TotalSeconds:0} s idle)");
            sb.AppendLine();
            sb.AppendLine("| tool | watch mode | append median / p95 / p99 / max s | flag median / p95 / p99 / max s | not seen | idle CPU s/min | servers' idle CPU s/min | RSS MB |");
            sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
            foreach (var l in results.Lag)
            {
                if (l.Failure is not null && l.Appends.Count == 0)
                {
                    sb.AppendLine(Inv, $"| {l.Tool} | {l.Mode} | {l.Failure} | | | | | |");
                    continue;
                }
                sb.AppendLine(Inv, $"| {l.Tool} | {l.Mode} | {Spread(l.Appends)} | {Spread(l.Flags)} | {l.Lost} | {l.ToolIdleCpuPerMinute:0.00} | {l.ServerIdleCpuPerMinute:0.00} | {l.Rss / 1048576.0:0} |");
            }
            sb.AppendLine();
        }

        if (results.Steady.Count > 0)
        {
            sb.AppendLine(Inv, $"### Steady state: {results.Steady[0].Folders:N0} idle folders, {options.SteadyWindow.TotalSeconds:0} s measured after the first sync");
            sb.AppendLine();
            sb.AppendLine("| tool | watch mode | first sync s | CPU s/min | servers' CPU s/min | RSS MB | connections held |");
            sb.AppendLine("|---|---|---:|---:|---:|---:|---:|");
            foreach (var s in results.Steady)
            {
                sb.AppendLine(s.Failure is not null && s.FirstSyncSeconds is null
                    ? $"| {s.Tool} | {s.Mode} | {s.Failure} | | | | |"
                    : string.Create(Inv, $"| {s.Tool} | {s.Mode} | {s.FirstSyncSeconds:0.0} | {s.ToolCpuPerMinute:0.00} | {s.ServerCpuPerMinute:0.00} | {s.Rss / 1048576.0:0} | {s.Connections} |"));
            }
            sb.AppendLine();
        }

        if (results.CatchUp.Count > 0)
        {
            sb.AppendLine(Inv, $"### Catch-up after {options.CatchUpChanges:N0} changes made while the replica was away (small corpus)");
            sb.AppendLine();
            sb.AppendLine("| tool | how | time s | result |");
            sb.AppendLine("|---|---|---:|---|");
            foreach (var c in results.CatchUp)
                sb.AppendLine(Inv, $"| {c.Tool} | {c.Mode} | {(c.Seconds is { } s ? s.ToString("0.00", Inv) : "-")} | {(c.Failure ?? c.Check?.ToString() ?? "-")} |");
            sb.AppendLine();
        }

        var targets = new TargetCheck(results).Rows();
        if (targets.Count > 0)
        {
            sb.AppendLine("### Targets");
            sb.AppendLine();
            sb.AppendLine("| target | goal | measured | |");
            sb.AppendLine("|---|---|---|---|");
            foreach (var t in targets) sb.AppendLine(Inv, $"| {t.Name} | {t.Goal} | {t.Measured} | {(t.Met is null ? "not measured" : t.Met.Value ? "met" : "**missed**")} |");
            sb.AppendLine();
        }
        foreach (var note in results.Notes) sb.AppendLine(Inv, $"- {note}");
        if (plotFile is not null) sb.AppendLine().AppendLine(Inv, $"![lag and throughput]({plotFile})");
        return sb.ToString();
    }

    private static string Outcome(List<CopyRun> runs)
    {
        var failed = runs.FirstOrDefault(r => !r.Result.Succeeded);
        var wrong = runs.FirstOrDefault(r => r.Check is { Exact: false });
        if (failed is not null) return $"failed: {failed.Result.Failure.Replace('|', '/')}";
        if (wrong is not null) return wrong.Check!.ToString();
        return runs.All(r => r.Check is null) ? "ok" : "exact";
    }

    private static string ServersLine(BenchResults results) => results.Pair == "Dovecot→Dovecot"
        ? $"both Dovecot servers ({results.Versions.GetValueOrDefault("dovecot")})"
        : $"a {results.Pair.Replace("→", " primary and a ", StringComparison.Ordinal)} replica (Dovecot {results.Versions.GetValueOrDefault("dovecot")})";

    internal static double? Median(IEnumerable<CopyRun>? runs)
    {
        var ok = runs?.Where(r => r.Result.Succeeded).Select(r => r.Result.WallSeconds).ToList();
        return ok is null || ok.Count == 0 ? null : Stats.Percentile(ok, 50);
    }

    private static double MedianOf(IEnumerable<double> values) => Stats.Percentile(values.ToList(), 50);

    internal static string Spread(List<double> samples) => samples.Count == 0 ? "-"
        : string.Create(Inv, $"{Stats.Percentile(samples, 50):0.000} / {Stats.Percentile(samples, 95):0.000} / {Stats.Percentile(samples, 99):0.000} / {samples.Max():0.000}");
}

/// <summary>The machine, for the report's first line.</summary>
internal static class Machine
{
    public static double MemoryGiB => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1073741824.0;

    public static string CpuModel
    {
        get
        {
            try
            {
                return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
            }
            catch (IOException)
            {
                return "unknown CPU";
            }
        }
    }
}

namespace Observer.Bench;

/// <summary>
/// Each tool's median time in a phase divided by that of the fastest peer whose every run there was exact:
/// the measure the targets use (Observer at 0.8 or less) and the figure draws, one row per phase.
/// </summary>
internal static class PeerRatios
{
    public const string Observer = "observer";

    /// <summary>One phase on one corpus: its fastest exact peer and every tool's median.</summary>
    public sealed record Phase(string Label, (string Tool, double Median)? FastestPeer, IReadOnlyList<(string Tool, double Median)> Tools)
    {
        public double? Ratio(string tool) =>
            FastestPeer is { } peer && Tools.FirstOrDefault(t => t.Tool == tool) is { Tool: not null } mine ? mine.Median / peer.Median : null;
    }

    /// <summary>Observer in any form (low-latency, an earlier build) and the raw copy are not peers to beat.</summary>
    public static bool IsPeer(string tool) => !tool.StartsWith(Observer, StringComparison.Ordinal) && tool != "raw FETCH→APPEND";

    private static readonly (string Name, string Label)[] CopyPhases = [("initial", "initial copy"), ("noop", "no-op re-run"), ("incremental", "incremental run")];

    /// <summary>Every copy phase that was run, corpus by corpus, then the one-shot catch-up.</summary>
    public static List<Phase> All(BenchResults results)
    {
        var phases = new List<Phase>();
        foreach (var (name, label) in CopyPhases)
        {
            foreach (var corpus in results.Corpora)
            {
                var runs = results.Copies.Where(c => c.Corpus == corpus.Name && c.Phase == name).GroupBy(c => c.Tool).ToList();
                if (runs.Count == 0) continue;
                var medians = runs.Select(g => (g.Key, Median: CompareReport.Median(g))).Where(m => m.Median is not null).Select(m => (m.Key, m.Median!.Value)).ToList();
                var exact = runs.Where(g => g.All(r => r.Result.Succeeded && r.Check is not { Exact: false })).Select(g => g.Key).ToHashSet();
                phases.Add(Make($"{label}, {corpus.Name}", medians, exact));
            }
        }
        var catchUp = results.CatchUp.Where(c => c.Mode == "one-shot run" && c.Seconds is not null).ToList();
        if (catchUp.Count > 0)
        {
            var medians = catchUp.Select(c => (c.Tool, c.Seconds!.Value)).ToList();
            var exact = catchUp.Where(c => c.Check is not { Exact: false } && c.Failure is null).Select(c => c.Tool).ToHashSet();
            phases.Add(Make($"catch-up, {catchUp[0].Changes:N0} changes", medians, exact));
        }
        return phases;
    }

    private static Phase Make(string label, List<(string Tool, double Median)> medians, HashSet<string> exact)
    {
        var peers = medians.Where(m => IsPeer(m.Tool) && exact.Contains(m.Tool) && m.Median > 0).OrderBy(m => m.Median).ToList();
        return new Phase(label, peers.Count == 0 ? null : peers[0], medians);
    }
}

using System.Globalization;
using System.Text;

namespace Observer.Bench;

internal static class Stats
{
    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        var rank = p / 100 * (sorted.Count - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    }

    /// <summary>A Markdown table of latency samples, in seconds.</summary>
    public static string Table(params (string Name, List<double> Samples)[] series)
    {
        var sb = new StringBuilder("| change | samples | median s | p95 s | p99 s | max s |\n|---|---:|---:|---:|---:|---:|\n");
        foreach (var (name, samples) in series.Where(s => s.Samples.Count > 0))
            sb.Append(CultureInfo.InvariantCulture, $"| {name} | {samples.Count} | {Percentile(samples, 50):0.000} | {Percentile(samples, 95):0.000} | {Percentile(samples, 99):0.000} | {samples.Max():0.000} |\n");
        return sb.ToString();
    }
}

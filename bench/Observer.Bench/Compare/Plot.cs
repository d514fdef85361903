using System.Diagnostics;
using System.Globalization;
using System.Security;
using System.Text;

namespace Observer.Bench;

/// <summary>
/// The report's figure: initial-copy throughput per tool and corpus (left) and live lag per tool,
/// median to p99 with the maximum marked, on a log scale (right). Drawn as SVG, turned into PNG by
/// rsvg-convert (Debian's librsvg2-bin).
/// </summary>
internal static class Plot
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly string[] Colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"];
    private const int Width = 1280, Height = 560, PanelWidth = 600, Top = 70, LabelWidth = 170;

    public static string Svg(BenchResults results)
    {
        var svg = new StringBuilder();
        svg.Append(Inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"13\">");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        Throughput(svg, results, 20);
        Lag(svg, results, 660);
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>Writes <paramref name="png"/>; returns why not if rsvg-convert is missing or fails.</summary>
    public static string? ToPng(string svgFile, string png)
    {
        if (ProcessSpec.Which("rsvg-convert") is null) return "rsvg-convert is missing (apt-get install librsvg2-bin); only the SVG was written";
        using var convert = Process.Start(new ProcessStartInfo("rsvg-convert", ["-o", png, svgFile]) { RedirectStandardError = true })!;
        var error = convert.StandardError.ReadToEnd();
        convert.WaitForExit();
        return convert.ExitCode == 0 ? null : $"rsvg-convert failed: {error.Trim()}";
    }

    private static void Throughput(StringBuilder svg, BenchResults results, int left)
    {
        Title(svg, left, "Initial copy: MB/s (median; higher is better)");
        var corpora = results.Corpora.Where(c => results.Copies.Any(r => r.Corpus == c.Name && r.Phase == "initial")).ToList();
        var tools = results.Copies.Where(r => r.Phase == "initial").Select(r => r.Tool).Distinct().ToList();
        var speeds = new Dictionary<(string Tool, string Corpus), double>();
        foreach (var c in corpora)
            foreach (var t in tools)
                if (CompareReport.Median(results.Copies.Where(r => r.Phase == "initial" && r.Corpus == c.Name && r.Tool == t)) is { } s && s > 0)
                    speeds[(t, c.Name)] = c.Bytes / 1048576.0 / s;
        var max = speeds.Count == 0 ? 1 : speeds.Values.Max() * 1.1;
        var plotWidth = PanelWidth - LabelWidth - 60;
        var rowHeight = tools.Count == 0 ? 0 : Math.Min(60, (Height - Top - 60) / tools.Count);
        var bar = Math.Max(4, (rowHeight - 10) / Math.Max(1, corpora.Count));
        for (var i = 0; i < tools.Count; i++)
        {
            var y = Top + i * rowHeight;
            Text(svg, left + LabelWidth - 8, y + rowHeight / 2 + 4, tools[i], "end");
            for (var j = 0; j < corpora.Count; j++)
            {
                if (!speeds.TryGetValue((tools[i], corpora[j].Name), out var speed)) continue;
                var w = speed / max * plotWidth;
                svg.Append(Inv, $"<rect x=\"{left + LabelWidth}\" y=\"{y + j * bar}\" width=\"{w:0.0}\" height=\"{bar - 2}\" fill=\"{Colors[j % Colors.Length]}\"/>");
                Text(svg, left + LabelWidth + (int)w + 4, y + j * bar + bar - 4, speed.ToString("0.0", Inv), "start", 11);
            }
        }
        Legend(svg, left + LabelWidth, Height - 30, corpora.Select(c => c.Name).ToList());
    }

    private static void Lag(StringBuilder svg, BenchResults results, int left)
    {
        Title(svg, left, "Live lag, seconds (log scale): median to p99, × = max");
        const double low = 0.01, high = 100;
        var plotWidth = PanelWidth - LabelWidth - 20;
        double X(double s) => left + LabelWidth + (Math.Log10(Math.Clamp(s, low, high)) - Math.Log10(low)) / (Math.Log10(high) - Math.Log10(low)) * plotWidth;
        var rows = results.Lag.Where(l => l.Appends.Count > 0)
            .SelectMany(l => new[] { ($"{l.Tool}: append", l.Appends), ($"{l.Tool}: flag", l.Flags) }).Where(r => r.Item2.Count > 0).ToList();
        var rowHeight = rows.Count == 0 ? 0 : Math.Min(40, (Height - Top - 60) / rows.Count);
        foreach (var tick in new[] { 0.01, 0.1, 0.5, 1, 10, 100 })
        {
            var x = X(tick);
            svg.Append(Inv, $"<line x1=\"{x:0.0}\" y1=\"{Top - 5}\" x2=\"{x:0.0}\" y2=\"{Top + rows.Count * rowHeight}\" stroke=\"#ddd\"/>");
            Text(svg, (int)x, Top + rows.Count * rowHeight + 16, tick.ToString("0.##", Inv), "middle", 11);
        }
        for (var i = 0; i < rows.Count; i++)
        {
            var (label, samples) = rows[i];
            var y = Top + i * rowHeight + rowHeight / 2;
            Text(svg, left + LabelWidth - 8, y + 4, label, "end", 12);
            var (median, p99, max) = (Stats.Percentile(samples, 50), Stats.Percentile(samples, 99), samples.Max());
            var color = Colors[i / 2 % Colors.Length];
            svg.Append(Inv, $"<line x1=\"{X(median):0.0}\" y1=\"{y}\" x2=\"{X(p99):0.0}\" y2=\"{y}\" stroke=\"{color}\" stroke-width=\"6\"/>");
            svg.Append(Inv, $"<circle cx=\"{X(median):0.0}\" cy=\"{y}\" r=\"5\" fill=\"{color}\"/>");
            Text(svg, (int)X(max), y + 5, "×", "middle", 14);
        }
    }

    private static void Title(StringBuilder svg, int left, string title) =>
        svg.Append(Inv, $"<text x=\"{left}\" y=\"35\" font-size=\"16\" font-weight=\"bold\">{SecurityElement.Escape(title)}</text>");

    private static void Text(StringBuilder svg, int x, int y, string text, string anchor, int size = 13) =>
        svg.Append(Inv, $"<text x=\"{x}\" y=\"{y}\" text-anchor=\"{anchor}\" font-size=\"{size}\">{SecurityElement.Escape(text)}</text>");

    private static void Legend(StringBuilder svg, int left, int y, List<string> names)
    {
        for (var i = 0; i < names.Count; i++)
        {
            svg.Append(Inv, $"<rect x=\"{left + i * 110}\" y=\"{y - 10}\" width=\"12\" height=\"12\" fill=\"{Colors[i % Colors.Length]}\"/>");
            Text(svg, left + i * 110 + 18, y, names[i], "start", 12);
        }
    }
}

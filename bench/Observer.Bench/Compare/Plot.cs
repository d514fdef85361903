using System.Diagnostics;
using System.Globalization;
using System.Security;
using System.Text;

namespace Observer.Bench;

/// <summary>
/// The report's figure: every phase's time relative to the fastest exact peer, per tool (left), and live
/// lag per tool, median to p99 with the maximum marked, on a log scale (right). Drawn as SVG, turned into PNG by
/// rsvg-convert (Debian's librsvg2-bin).
/// </summary>
internal static class Plot
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly string[] Colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"];
    private const int Width = 1280, Height = 560, PanelWidth = 600, Top = 70, LabelWidth = 170;

    public static string Svg(BenchResults results)
    {
        var svg = new StringBuilder();
        svg.Append(Inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"13\">");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        // One colour per tool in both panels, Observer's builds first.
        var palette = results.Copies.Select(c => c.Tool).Concat(results.CatchUp.Select(c => c.Tool)).Concat(results.Lag.Select(l => l.Tool)).Distinct()
            .OrderBy(t => t == PeerRatios.Observer ? 0 : t.StartsWith(PeerRatios.Observer, StringComparison.Ordinal) ? 1 : 2)
            .Select((tool, i) => (tool, Colors[i % Colors.Length])).ToDictionary(p => p.tool, p => p.Item2);
        Relative(svg, results, palette, 20);
        Lag(svg, results, palette, 660);
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

    /// <summary>
    /// Every phase as time relative to its fastest exact peer, on a log scale, so that a 0.1 s no-op and a
    /// 60 s first copy read alike: left of the 0.8 line is the issue's target, 1 is the peer.
    /// </summary>
    private static void Relative(StringBuilder svg, BenchResults results, Dictionary<string, string> palette, int left)
    {
        Title(svg, left, "Time ÷ fastest exact peer (log scale; lower is better)");
        const double low = 0.125, high = 8;
        var phases = PeerRatios.All(results).Where(p => p.FastestPeer is not null).ToList();
        var tools = palette.Keys.Where(t => phases.Any(p => p.Ratio(t) is not null)).ToList();
        var plotWidth = PanelWidth - LabelWidth - 50;
        double X(double r) => left + LabelWidth + (Math.Log2(Math.Clamp(r, low, high)) - Math.Log2(low)) / (Math.Log2(high) - Math.Log2(low)) * plotWidth;
        var rowHeight = phases.Count == 0 ? 0 : Math.Min(80, (Height - Top - 70) / phases.Count);
        var bottom = Top + phases.Count * rowHeight;
        foreach (var tick in new[] { 0.125, 0.25, 0.5, 0.8, 1, 2, 4, 8 })
        {
            var x = X(tick);
            var target = tick == 0.8;
            var stroke = target ? "#d62728\" stroke-dasharray=\"4 3" : tick == 1 ? "#888" : "#ddd";
            svg.Append(Inv, $"<line x1=\"{x:0.0}\" y1=\"{Top - 5}\" x2=\"{x:0.0}\" y2=\"{bottom}\" stroke=\"{stroke}\"/>");
            Text(svg, (int)x, bottom + 16, tick.ToString("0.###", Inv), "middle", 11);
        }
        var bar = tools.Count == 0 ? 0 : Math.Max(3, (rowHeight - 8) / tools.Count);
        for (var i = 0; i < phases.Count; i++)
        {
            var y = Top + i * rowHeight;
            Text(svg, left + LabelWidth - 8, y + rowHeight / 2 + 4, phases[i].Label, "end", 12);
            for (var j = 0; j < tools.Count; j++)
            {
                if (phases[i].Ratio(tools[j]) is not { } ratio) continue;
                var w = X(ratio) - X(low);
                svg.Append(Inv, $"<rect x=\"{X(low):0.0}\" y=\"{y + j * bar}\" width=\"{w:0.0}\" height=\"{bar - 1}\" fill=\"{palette[tools[j]]}\"/>");
                if (bar >= 9) Text(svg, (int)(X(low) + w) + 3, y + j * bar + bar - 2, ratio.ToString("0.00", Inv), "start", 9);
            }
        }
        Legend(svg, left + 10, bottom + 40, tools, palette);
    }

    private static void Lag(StringBuilder svg, BenchResults results, Dictionary<string, string> palette, int left)
    {
        Title(svg, left, "Live lag, seconds (log scale): median to p99, × = max");
        const double low = 0.01, high = 100;
        var plotWidth = PanelWidth - LabelWidth - 20;
        double X(double s) => left + LabelWidth + (Math.Log10(Math.Clamp(s, low, high)) - Math.Log10(low)) / (Math.Log10(high) - Math.Log10(low)) * plotWidth;
        var rows = results.Lag.Where(l => l.Appends.Count > 0)
            .SelectMany(l => new[] { ($"{l.Tool}: append", l.Appends, l.Tool), ($"{l.Tool}: flag", l.Flags, l.Tool) }).Where(r => r.Item2.Count > 0).ToList();
        var rowHeight = rows.Count == 0 ? 0 : Math.Min(40, (Height - Top - 60) / rows.Count);
        if (rows.Count == 0) Text(svg, left + PanelWidth / 2, Top + 60, "the lag phase was not run", "middle");
        foreach (var tick in new[] { 0.01, 0.1, 0.5, 1, 10, 100 })
        {
            var x = X(tick);
            svg.Append(Inv, $"<line x1=\"{x:0.0}\" y1=\"{Top - 5}\" x2=\"{x:0.0}\" y2=\"{Top + rows.Count * rowHeight}\" stroke=\"#ddd\"/>");
            Text(svg, (int)x, Top + rows.Count * rowHeight + 16, tick.ToString("0.##", Inv), "middle", 11);
        }
        for (var i = 0; i < rows.Count; i++)
        {
            var (label, samples, tool) = rows[i];
            var y = Top + i * rowHeight + rowHeight / 2;
            Text(svg, left + LabelWidth - 8, y + 4, label, "end", 12);
            var (median, p99, max) = (Stats.Percentile(samples, 50), Stats.Percentile(samples, 99), samples.Max());
            var color = palette[tool];
            svg.Append(Inv, $"<line x1=\"{X(median):0.0}\" y1=\"{y}\" x2=\"{X(p99):0.0}\" y2=\"{y}\" stroke=\"{color}\" stroke-width=\"6\"/>");
            svg.Append(Inv, $"<circle cx=\"{X(median):0.0}\" cy=\"{y}\" r=\"5\" fill=\"{color}\"/>");
            Text(svg, (int)X(max), y + 5, "×", "middle", 14);
        }
    }

    private static void Title(StringBuilder svg, int left, string title) =>
        svg.Append(Inv, $"<text x=\"{left}\" y=\"35\" font-size=\"16\" font-weight=\"bold\">{SecurityElement.Escape(title)}</text>");

    private static void Text(StringBuilder svg, int x, int y, string text, string anchor, int size = 13) =>
        svg.Append(Inv, $"<text x=\"{x}\" y=\"{y}\" text-anchor=\"{anchor}\" font-size=\"{size}\">{SecurityElement.Escape(text)}</text>");

    /// <summary>Tools' colours, wrapping onto a second line where one panel is too narrow for them all.</summary>
    private static void Legend(StringBuilder svg, int left, int y, List<string> names, Dictionary<string, string> palette)
    {
        const int itemWidth = 140;
        var perLine = Math.Max(1, (PanelWidth - 20) / itemWidth);
        for (var i = 0; i < names.Count; i++)
        {
            var (x, line) = (left + i % perLine * itemWidth, y + i / perLine * 18);
            svg.Append(Inv, $"<rect x=\"{x}\" y=\"{line - 10}\" width=\"12\" height=\"12\" fill=\"{palette[names[i]]}\"/>");
            Text(svg, x + 18, line, names[i], "start", 12);
        }
    }
}

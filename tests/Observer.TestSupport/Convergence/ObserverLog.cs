using System.Globalization;
using System.Text.RegularExpressions;

namespace Observer.TestSupport;

/// <summary>One line of observer's stderr, with the time it carries ("2026-11-22 06:32:01.123 info: ...").</summary>
public sealed record ObserverLogLine(DateTime Time, string Text);

/// <summary>Reads observer's log: its lines with their times, and the lines that repeat too often.</summary>
public static partial class ObserverLog
{
    private const string TimeFormat = "yyyy-MM-dd HH:mm:ss.fff";

    public static List<ObserverLogLine> Parse(string stderr)
    {
        var lines = new List<ObserverLogLine>();
        foreach (var line in stderr.Split('\n'))
        {
            if (line.Length > TimeFormat.Length
                && DateTime.TryParseExact(line.AsSpan(0, TimeFormat.Length), TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var time))
                lines.Add(new ObserverLogLine(time, line[(TimeFormat.Length + 1)..].TrimEnd('\r')));
        }
        return lines;
    }

    /// <summary>The first line at or after <paramref name="since"/> that contains <paramref name="text"/>.</summary>
    public static ObserverLogLine? First(string stderr, DateTime since, string text) =>
        Parse(stderr).FirstOrDefault(l => l.Time >= since && l.Text.Contains(text, StringComparison.Ordinal));

    /// <summary>A line with numbers (UIDs, counts, milliseconds, MD5s) masked, so that lines that differ only in them compare equal.</summary>
    public static string Mask(string text) => Numbers().Replace(Md5s().Replace(text, "<md5>"), "#");

    /// <summary>
    /// Masked lines that occur more than <paramref name="perMinute"/> times within some minute after
    /// <paramref name="since"/>, with the most found in one minute.
    /// </summary>
    public static List<(string Line, int Count)> Repeated(string stderr, DateTime since, int perMinute)
    {
        var found = new List<(string, int)>();
        foreach (var group in Parse(stderr).Where(l => l.Time >= since).GroupBy(l => Mask(l.Text)))
        {
            var times = group.Select(l => l.Time).Order().ToList();
            var most = 0;
            for (int start = 0, end = 0; end < times.Count; end++)
            {
                while (times[end] - times[start] > TimeSpan.FromMinutes(1)) start++;
                most = Math.Max(most, end - start + 1);
            }
            if (most > perMinute) found.Add((group.Key, most));
        }
        return found;
    }

    [GeneratedRegex("[0-9a-fA-F]{32}")]
    private static partial Regex Md5s();

    [GeneratedRegex("[0-9]+")]
    private static partial Regex Numbers();
}

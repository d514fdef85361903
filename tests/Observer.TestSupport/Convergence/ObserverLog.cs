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
    /// <param name="folderNames">
    /// Folder names that may appear in the log: each is kept apart before numbers are masked, so that
    /// "folder Trips 12 deleted" and "folder Trips 13 deleted", two folders, are not one line repeated.
    /// </param>
    public static List<(string Line, int Count)> Repeated(string stderr, DateTime since, int perMinute, IEnumerable<string>? folderNames = null)
    {
        var found = new List<(string, int)>();
        var names = FolderNameMask(folderNames ?? []);
        // A run that asked for the debug log (`soak --debug`) hears every message copied or expunged: only what a
        // service says at its usual level shows a loop.
        var usual = Parse(stderr).Where(l => l.Time >= since && !l.Text.StartsWith("dbug:", StringComparison.Ordinal) && !l.Text.StartsWith("trce:", StringComparison.Ordinal));
        foreach (var group in usual.GroupBy(l => Mask(names(l.Text))))
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

    /// <summary>Replaces each known folder name with a token of letters only, one per name, longest names first.</summary>
    private static Func<string, string> FolderNameMask(IEnumerable<string> folderNames)
    {
        var names = folderNames.Where(n => n.Length > 0).Distinct(StringComparer.Ordinal).OrderByDescending(n => n.Length).ToList();
        if (names.Count == 0) return text => text;
        var tokens = names.Select((n, i) => (n, Token(i))).ToDictionary(p => p.n, p => p.Item2, StringComparer.Ordinal);
        var pattern = new Regex(string.Join('|', names.Select(Regex.Escape)), RegexOptions.CultureInvariant);
        return text => pattern.Replace(text, m => tokens[m.Value]);
    }

    private static string Token(int index)
    {
        var letters = new System.Text.StringBuilder("<folder ");
        do
        {
            letters.Append((char)('a' + index % 26));
            index /= 26;
        }
        while (index > 0);
        return letters.Append('>').ToString();
    }

    [GeneratedRegex("[0-9a-fA-F]{32}")]
    private static partial Regex Md5s();

    [GeneratedRegex("[0-9]+")]
    private static partial Regex Numbers();
}

using System.Text.RegularExpressions;

namespace Observer.Replication;

/// <summary>Which primary folders are replicated: all but those matching an exclude pattern (* and % as in LIST).</summary>
public sealed class FolderFilter
{
    private readonly Regex[] _excludes;

    public FolderFilter(IEnumerable<string> excludes, char? delimiter)
    {
        var notDelimiter = delimiter is { } d ? $"[^{Regex.Escape(d.ToString())}]*" : ".*";
        _excludes = excludes
            .Where(e => !string.IsNullOrWhiteSpace(e))
            .Select(e => new Regex("^" + Regex.Escape(e).Replace("\\*", ".*").Replace("%", notDelimiter) + "$", RegexOptions.CultureInvariant))
            .ToArray();
    }

    public bool Includes(string folder) => !_excludes.Any(r => r.IsMatch(folder));
}

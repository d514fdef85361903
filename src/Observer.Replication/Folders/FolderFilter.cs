using System.Text.RegularExpressions;

namespace Observer.Replication;

/// <summary>
/// Which primary folders are replicated: those matching an Include pattern (all when there is none) and no Exclude
/// pattern; within them, a one-shot command's scope (`--folders`). Patterns use * and % as in LIST.
/// </summary>
public sealed class FolderFilter
{
    private readonly Regex[] _excludes;
    private readonly Regex[] _includes;
    private readonly Regex[] _scope;

    public FolderFilter(IEnumerable<string> excludes, char? delimiter, IEnumerable<string>? includes = null, IEnumerable<string>? scope = null)
    {
        _excludes = Patterns(excludes, delimiter);
        _includes = Patterns(includes ?? [], delimiter);
        _scope = Patterns(scope ?? [], delimiter);
    }

    public FolderFilter(FolderOptions options, char? delimiter) : this(options.Exclude, delimiter, options.Include, options.Scope)
    {
    }

    /// <summary>Whether this command looks at only some folders: then it neither renames nor deletes any.</summary>
    public bool Scoped => _scope.Length > 0;

    /// <summary>Whether the folder is replicated, and looked at by this command.</summary>
    public bool Includes(string folder) => IsReplicated(folder) && InScope(folder);

    /// <summary>A replicated folder this command does not look at: its state is kept as it is.</summary>
    public bool OutOfScope(string folder) => IsReplicated(folder) && !InScope(folder);

    private bool IsReplicated(string folder) => !_excludes.Any(r => r.IsMatch(folder)) && (_includes.Length == 0 || _includes.Any(r => r.IsMatch(folder)));

    private bool InScope(string folder) => _scope.Length == 0 || _scope.Any(r => r.IsMatch(folder));

    private static Regex[] Patterns(IEnumerable<string> patterns, char? delimiter)
    {
        var notDelimiter = delimiter is { } d ? $"[^{Regex.Escape(d.ToString())}]*" : ".*";
        return patterns
            .Where(e => !string.IsNullOrWhiteSpace(e))
            .Select(e => new Regex("^" + Regex.Escape(e).Replace("\\*", ".*").Replace("%", notDelimiter) + "$", RegexOptions.CultureInvariant))
            .ToArray();
    }
}

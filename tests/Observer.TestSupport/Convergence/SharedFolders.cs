namespace Observer.TestSupport;

/// <summary>
/// The folders the generator's clients know of, by path ('/' between levels), shared between them.
/// Base folders are never renamed or deleted; folders the generator created are, with their
/// children. What a client learns here may be stale by the time it acts (another client renamed the
/// folder): the server then refuses the command, as it would for a real user.
/// </summary>
public sealed class SharedFolders
{
    private readonly object _lock = new();
    private readonly List<string> _all = [];
    private readonly List<string> _own = [];
    private readonly HashSet<string> _excluded;

    /// <param name="excluded">Folders that exist but that random picks leave alone (a folder another actor keeps small).</param>
    public SharedFolders(IEnumerable<string> folders, IEnumerable<string>? excluded = null)
    {
        _all.AddRange(folders);
        _excluded = new HashSet<string>(excluded ?? [], StringComparer.Ordinal);
    }

    public int OwnCount
    {
        get { lock (_lock) return _own.Count; }
    }

    public string Pick(Random random)
    {
        lock (_lock)
        {
            var candidates = _all.Where(f => !_excluded.Contains(f)).ToList();
            return candidates[random.Next(candidates.Count)];
        }
    }

    /// <summary>A folder the generator created, or null if there is none.</summary>
    public string? PickOwn(Random random, bool leafOnly = false)
    {
        lock (_lock)
        {
            var candidates = leafOnly ? _own.Where(f => !_all.Any(o => o.StartsWith(f + "/", StringComparison.Ordinal))).ToList() : _own;
            return candidates.Count == 0 ? null : candidates[random.Next(candidates.Count)];
        }
    }

    public bool Exists(string path)
    {
        lock (_lock) return _all.Contains(path);
    }

    public void Add(string path)
    {
        lock (_lock)
        {
            if (_all.Contains(path)) return;
            _all.Add(path);
            _own.Add(path);
        }
    }

    /// <summary>A rename takes the folder's children along, as IMAP RENAME does.</summary>
    public void Rename(string old, string path)
    {
        lock (_lock)
        {
            Replace(_all, old, path);
            Replace(_own, old, path);
        }
    }

    public void Remove(string path)
    {
        lock (_lock)
        {
            _all.Remove(path);
            _own.Remove(path);
        }
    }

    private static void Replace(List<string> list, string old, string path)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] == old) list[i] = path;
            else if (list[i].StartsWith(old + "/", StringComparison.Ordinal)) list[i] = path + list[i][old.Length..];
        }
    }
}

using System.Collections.Concurrent;

namespace Observer.Replication;

/// <summary>
/// Folders the primary lists as selectable but cannot open. Dovecot's Maildir++ layout keeps listing a
/// deleted parent whose children remain, without \Noselect. Such a folder is gone for replication, and
/// the tree sync treats it so, as long as the primary still refuses it.
/// </summary>
internal sealed class PhantomFolders
{
    private readonly ConcurrentDictionary<string, byte> _names = new(StringComparer.Ordinal);

    public void Add(string folder) => _names.TryAdd(folder, 0);

    public void Remove(string folder) => _names.TryRemove(folder, out _);

    public bool Contains(string folder) => _names.ContainsKey(folder);

    public IReadOnlyCollection<string> All => _names.Keys.ToList();
}

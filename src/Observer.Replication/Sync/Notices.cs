using System.Collections.Concurrent;

namespace Observer.Replication;

/// <summary>
/// Remembers which warnings were already given, so a condition that persists (a message the replica
/// refuses, keywords it cannot hold) is reported once per process, not at every sync of its folder.
/// </summary>
internal sealed class Notices
{
    private readonly ConcurrentDictionary<string, byte> _given = new(StringComparer.Ordinal);

    /// <summary>True the first time <paramref name="key"/> is seen.</summary>
    public bool First(string key) => _given.TryAdd(key, 0);

    /// <summary>Whether <paramref name="key"/> was seen before.</summary>
    public bool Given(string key) => _given.ContainsKey(key);
}

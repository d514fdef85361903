using Observer.Mail;

namespace Observer.Replication;

/// <summary>
/// What an IDLE watcher learned from untagged data: new UIDs (from EXISTS), flags (from FETCH) and
/// expunged UIDs (EXPUNGE through its sequence map, or VANISHED). Where the primary has no CONDSTORE,
/// these let a folder be synced without listing all its messages.
/// </summary>
public sealed record ChangeHints
{
    public IReadOnlySet<uint> NewUids { get; init; } = new HashSet<uint>();
    public IReadOnlyDictionary<uint, MessageFlags> Flags { get; init; } = new Dictionary<uint, MessageFlags>();
    public IReadOnlySet<uint> Expunged { get; init; } = new HashSet<uint>();

    /// <summary>Both sets of hints; for flags, the later word wins.</summary>
    public ChangeHints Merge(ChangeHints later)
    {
        var flags = new Dictionary<uint, MessageFlags>(Flags);
        foreach (var (uid, f) in later.Flags) flags[uid] = f;
        return new ChangeHints
        {
            NewUids = NewUids.Union(later.NewUids).ToHashSet(),
            Flags = flags,
            Expunged = Expunged.Union(later.Expunged).ToHashSet(),
        };
    }
}

using MailKit;
using Observer.Mail;
using EngineFlags = Observer.Mail.MessageFlags;
using KitFlags = MailKit.MessageFlags;

namespace Observer.MailKit;

/// <summary>UID sets and flags between the engine's words and MailKit's.</summary>
internal static class MailKitConversions
{
    private static readonly (string Name, KitFlags Flag)[] SystemFlags =
    [
        (EngineFlags.Seen, KitFlags.Seen),
        (EngineFlags.Answered, KitFlags.Answered),
        (EngineFlags.Flagged, KitFlags.Flagged),
        (EngineFlags.Deleted, KitFlags.Deleted),
        (EngineFlags.Draft, KitFlags.Draft),
        (EngineFlags.Recent, KitFlags.Recent),
    ];

    /// <summary>One range goes as it is ("n:*" included); several are listed out.</summary>
    public static IList<UniqueId> ToKit(this UidSet uids)
    {
        if (uids.Ranges.Count == 1)
            return new UniqueIdRange(new UniqueId(uids.Ranges[0].Start), new UniqueId(uids.Ranges[0].End));
        if (uids.Ranges.Any(r => r.End == UidSet.Star))
            throw new ArgumentException("a UID set of several ranges cannot end in *", nameof(uids));
        return new UniqueIdSet(uids.Expand().Select(u => new UniqueId(u)), global::MailKit.Search.SortOrder.Ascending);
    }

    public static UidSet ToEngine(this IEnumerable<UniqueId> uids) => UidSet.FromUids(uids.Select(u => u.Id));

    public static EngineFlags ToEngine(KitFlags flags, IEnumerable<string>? keywords)
    {
        var names = SystemFlags.Where(f => flags.HasFlag(f.Flag)).Select(f => f.Name);
        return new EngineFlags(keywords is null ? names : names.Concat(keywords));
    }

    /// <summary>The system flags and, apart, the keywords.</summary>
    public static (KitFlags Flags, HashSet<string> Keywords) ToKit(this EngineFlags flags)
    {
        var kit = KitFlags.None;
        var keywords = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in flags.All)
        {
            var system = SystemFlags.FirstOrDefault(f => f.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
            if (system.Name is not null) kit |= system.Flag;
            else keywords.Add(name);
        }
        return (kit, keywords);
    }
}

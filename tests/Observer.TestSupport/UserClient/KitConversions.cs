using MailKit;
using Observer.Mail;
using KitFlags = MailKit.MessageFlags;
using KitSearch = MailKit.Search.SearchQuery;
using KitSortOrder = MailKit.Search.SortOrder;
using MessageFlags = Observer.Mail.MessageFlags;
using SearchQuery = Observer.Mail.SearchQuery;

namespace Observer.TestSupport;

/// <summary>UID sets, flags and searches between Observer's mail nouns and MailKit's.</summary>
internal static class KitConversions
{
    private static readonly (string Name, KitFlags Flag)[] SystemFlags =
    [
        (MessageFlags.Seen, KitFlags.Seen),
        (MessageFlags.Answered, KitFlags.Answered),
        (MessageFlags.Flagged, KitFlags.Flagged),
        (MessageFlags.Deleted, KitFlags.Deleted),
        (MessageFlags.Draft, KitFlags.Draft),
        (MessageFlags.Recent, KitFlags.Recent),
    ];

    /// <summary>One range goes as it is ("n:*" included); several are listed out.</summary>
    public static IList<UniqueId> ToKit(this UidSet uids)
    {
        if (uids.Ranges.Count == 1)
            return new UniqueIdRange(new UniqueId(uids.Ranges[0].Start), new UniqueId(uids.Ranges[0].End));
        if (uids.Ranges.Any(r => r.End == UidSet.Star))
            throw new ArgumentException("a UID set of several ranges cannot end in *", nameof(uids));
        return new UniqueIdSet(uids.Expand().Select(u => new UniqueId(u)), KitSortOrder.Ascending);
    }

    public static UidSet ToUidSet(this IEnumerable<UniqueId> uids) => UidSet.FromUids(uids.Select(u => u.Id));

    public static MessageFlags ToFlags(KitFlags flags, IEnumerable<string>? keywords)
    {
        var names = SystemFlags.Where(f => flags.HasFlag(f.Flag)).Select(f => f.Name);
        return new MessageFlags(keywords is null ? names : names.Concat(keywords));
    }

    /// <summary>The system flags and, apart, the keywords.</summary>
    public static (KitFlags Flags, HashSet<string> Keywords) ToKit(this MessageFlags flags)
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

    /// <summary>The terms <see cref="SearchQuery"/> builds, all of them to hold.</summary>
    public static KitSearch ToKit(this SearchQuery query)
    {
        KitSearch? result = null;
        foreach (var (keyword, value) in query.Terms)
        {
            KitSearch term = keyword switch
            {
                "ALL" => KitSearch.All,
                "DELETED" => KitSearch.Deleted,
                _ when keyword.StartsWith("UID ", StringComparison.Ordinal) => KitSearch.Uids(UidSet.Parse(keyword[4..]).ToKit()),
                _ when keyword.StartsWith("HEADER ", StringComparison.Ordinal) => KitSearch.HeaderContains(keyword[7..], value ?? ""),
                _ when keyword.StartsWith("MODSEQ ", StringComparison.Ordinal) => KitSearch.ChangedSince(ulong.Parse(keyword[7..], System.Globalization.CultureInfo.InvariantCulture)),
                _ => throw new NotSupportedException($"search term {keyword} has no MailKit form"),
            };
            result = result is null ? term : result.And(term);
        }
        return result ?? KitSearch.All;
    }
}

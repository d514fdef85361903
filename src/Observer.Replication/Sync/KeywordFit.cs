using Observer.Mail;

namespace Observer.Replication;

/// <summary>
/// Some servers cap the keywords a folder may hold (Cyrus: 100 per mailbox) and refuse an APPEND or
/// STORE that would define one more. A message is never left behind for that: it is copied with the
/// system flags and the keywords the folder already has, and the rest are reported once per folder.
/// </summary>
internal static class KeywordFit
{
    /// <summary>The flags of <paramref name="wanted"/> the replica folder can hold now, or null when all of them fit.</summary>
    public static MessageFlags? Trim(MessageFlags wanted, SelectedMailbox replica)
    {
        var keywords = wanted.All.Where(f => !f.StartsWith('\\')).ToList();
        if (keywords.Count == 0) return null;
        var defined = replica.Flags.All.Concat(replica.PermanentFlags.All).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var kept = wanted.All.Where(f => f.StartsWith('\\') || defined.Contains(f)).ToList();
        return kept.Count == wanted.Count ? null : new MessageFlags(kept);
    }

    /// <summary>The system flags of <paramref name="wanted"/> alone, or null when it has no keywords.</summary>
    public static MessageFlags? SystemOnly(MessageFlags wanted) =>
        wanted.All.Any(f => !f.StartsWith('\\')) ? new MessageFlags(wanted.All.Where(f => f.StartsWith('\\'))) : null;

    /// <summary>The keywords of <paramref name="wanted"/> missing from <paramref name="kept"/>.</summary>
    public static string Dropped(MessageFlags wanted, MessageFlags kept) =>
        string.Join(' ', wanted.All.Where(f => !kept.Contains(f)));
}

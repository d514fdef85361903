using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>What changed on the primary in one folder since its checkpoint (or everything, when full).</summary>
internal sealed class PrimaryDelta
{
    /// <summary>Primary UIDs not yet on the replica, ascending.</summary>
    public SortedSet<uint> New { get; } = [];

    /// <summary>Current flags (without \Recent) of mapped messages that may have changed.</summary>
    public Dictionary<uint, MessageFlags> Flags { get; } = [];

    /// <summary>Mapped messages the primary no longer has.</summary>
    public HashSet<uint> Vanished { get; } = [];

    /// <summary>
    /// Flags, dates and sizes of <see cref="New"/>, when the scan read them (a folder's first copy), so that
    /// the copy need not ask again. Flags that change meanwhile are newer than the checkpoint, which was
    /// taken before the scan: the next pass sets them.
    /// </summary>
    public IReadOnlyDictionary<uint, MessageSummary>? Attributes { get; private set; }

    /// <summary>The largest folder whose first scan also reads every message's date and size.</summary>
    internal const int AttributesScannedUpTo = 10_000;

    /// <summary>How the delta was read, for the debug log: what a catch-up cost.</summary>
    public string How { get; private set; } = "";

    /// <summary>
    /// Reads the delta. With CONDSTORE and a valid checkpoint only changes are fetched (VANISHED
    /// under QRESYNC); otherwise every UID and its flags. The cost follows the changes, not the size.
    /// </summary>
    public static async Task<PrimaryDelta> ReadAsync(IMailSession primary, FolderRecord folder, SelectedMailbox selected,
        IReadOnlyDictionary<uint, MessageRecord> rows, bool full, CancellationToken cancellationToken)
    {
        var delta = new PrimaryDelta();
        if (!full && primary.Features.CondStore && folder.PrimaryModSeq is { } since && selected.HighestModSeq is { } now)
        {
            delta.How = $"changes since modseq {since}";
            if (now == since && selected.UidNext == folder.PrimaryUidNext && selected.Exists == folder.PrimaryMessages) return delta;
            using var changes = await primary.FetchFlagsAsync(UpToLastGiven(selected, rows), since, cancellationToken).ConfigureAwait(false);
            delta.Absorb(changes.Messages, rows);
            foreach (var uid in changes.Vanished.Expand()) if (rows.ContainsKey(uid)) delta.Vanished.Add(uid);

            // Without QRESYNC (or if the counts disagree) expunges must be found by listing every UID.
            if (!primary.Features.QResync || delta.ExpectedCount(rows) != selected.Exists)
            {
                if (selected.Exists == 0 && rows.Count == 0) return delta;
                var present = (await primary.SearchAsync(SearchQuery.All, cancellationToken).ConfigureAwait(false)).Expand().ToHashSet();
                foreach (var uid in rows.Keys.Where(u => !present.Contains(u))) delta.Vanished.Add(uid);
                foreach (var uid in present.Where(u => !rows.ContainsKey(u))) delta.New.Add(uid);
            }
            return delta;
        }

        delta.How = $"full scan of {selected.Exists} messages";
        if (selected.Exists == 0)
        {
            foreach (var uid in rows.Keys) delta.Vanished.Add(uid);
            return delta;
        }
        // A folder's first copy will want every message's date and size: asked now, in the same command.
        // Not for a big folder, whose attributes would all be held until its copy ends: its copy asks
        // them a window at a time, a command per 500 messages, which is nothing beside its bodies.
        var firstCopy = rows.Count == 0 && selected.Exists <= AttributesScannedUpTo;
        using var all = firstCopy
            ? await primary.FetchAttributesAsync(UidSet.All, cancellationToken).ConfigureAwait(false)
            : await primary.FetchFlagsAsync(UidSet.All, null, cancellationToken).ConfigureAwait(false);
        delta.Absorb(all.Messages, rows);
        if (firstCopy) delta.Attributes = all.Messages.Where(m => m.Uid is not null).Select(MessageSummary.From).ToDictionary(m => m.Uid);
        var seen = all.Messages.Select(m => m.Uid!.Value).ToHashSet();
        foreach (var uid in rows.Keys.Where(u => !seen.Contains(u))) delta.Vanished.Add(uid);
        return delta;
    }

    /// <summary>
    /// The delta from an IDLE watcher's hints, for a primary without CONDSTORE: the new messages are
    /// those at or above the checkpoint's UIDNEXT (one UID FETCH of just them), flags and expunges come
    /// from the hints. Returns null when the message count shows the hints missed something, so the
    /// caller scans the folder instead.
    /// </summary>
    public static async Task<PrimaryDelta?> FromHintsAsync(IMailSession primary, FolderRecord folder, SelectedMailbox selected,
        IReadOnlyDictionary<uint, MessageRecord> rows, ChangeHints hints, CancellationToken cancellationToken)
    {
        if (folder.PrimaryUidNext is not { } since) return null;
        var delta = new PrimaryDelta { How = "the IDLE watcher's hints" };
        if (selected.UidNext is not { } next || next > since)
        {
            using var fresh = await primary.FetchFlagsAsync(UidSet.Range(since, UidSet.Star), null, cancellationToken).ConfigureAwait(false);
            delta.Absorb(fresh.Messages.Where(m => m.Uid >= since), rows);
        }
        foreach (var (uid, flags) in hints.Flags)
            if (rows.ContainsKey(uid)) delta.Flags[uid] = flags;
        foreach (var uid in hints.Expunged)
            if (rows.ContainsKey(uid)) delta.Vanished.Add(uid);
        return delta.ExpectedCount(rows) == selected.Exists ? delta : null;
    }

    /// <summary>
    /// The primary's message count if this delta is the whole story. An expunge already noted (a watcher's, noted
    /// before the folder's sync) is reported again since the checkpoint, and must not be taken off twice: counted
    /// twice, it hides a missing one, and the counts agree while a copy the primary no longer has stays on the replica.
    /// </summary>
    private long ExpectedCount(IReadOnlyDictionary<uint, MessageRecord> rows) =>
        rows.Values.Count(r => r.VanishedAt is null) - Vanished.Count(u => rows[u].VanishedAt is null) + New.Count;

    /// <summary>
    /// Every UID the primary has given out, by number. Cyrus reads "*" as the highest UID the folder still holds, so
    /// <c>UID FETCH 1:* (CHANGEDSINCE n VANISHED)</c> leaves the expunges of its newest messages out of VANISHED (EARLIER).
    /// </summary>
    private static UidSet UpToLastGiven(SelectedMailbox selected, IReadOnlyDictionary<uint, MessageRecord> rows)
    {
        var last = Math.Max(selected.UidNext is { } next and > 0 ? next - 1 : 0, rows.Count > 0 ? rows.Keys.Max() : 0);
        return last is 0 or >= UidSet.Star ? UidSet.All : UidSet.Range(1, last);
    }

    private void Absorb(IEnumerable<MessageData> messages, IReadOnlyDictionary<uint, MessageRecord> rows)
    {
        foreach (var message in messages)
        {
            if (message.Uid is not { } uid) continue;
            if (rows.ContainsKey(uid)) Flags[uid] = (message.Flags ?? MessageFlags.None).WithoutRecent();
            else New.Add(uid);
        }
    }
}

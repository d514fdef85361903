using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// An archive's answer to an expunge on the primary: the replica copy stays, optionally marked with a keyword, and its
/// row moves from the map of the primary's messages to the kept copies, so it is never taken for a stray and removed.
/// It waits out the move window first like any expunge, so a moved message is still moved rather than kept twice.
/// </summary>
internal static class ArchivedCopies
{
    /// <returns>How many copies were kept.</returns>
    /// <remarks>The replica folder must be selected under the UIDVALIDITY the rows were learned in.</remarks>
    public static async Task<int> KeepAsync(SyncContext context, FolderRecord folder, IReadOnlyList<MessageRecord> rows, CancellationToken cancellationToken)
    {
        var store = context.Store;
        var journals = new List<long>();
        var carriedNow = new Dictionary<string, string>(StringComparer.Ordinal);
        // One STORE per set of flags, as the flag pass does. \Deleted goes: the primary's client marked the message so
        // just before expunging it, and left on the archive it would be wiped by the first client to expunge there.
        foreach (var group in rows.GroupBy(r => r.Flags))
        {
            var carried = MessageFlags.Parse(group.Key);
            var kept = carried.Without(MessageFlags.Deleted);
            if (context.Policy.ArchiveKeyword is { } keyword) kept = kept.With(keyword);
            carriedNow[group.Key] = kept.ToString();
            if (kept.Equals(carried)) continue;
            var uids = UidSet.FromUids(group.Select(r => r.ReplicaUid));
            journals.Add(store.Journal.Begin(new JournalEntry
            {
                ReplicaId = context.ReplicaId,
                Folder = folder.PrimaryName,
                Operation = "keep",
                Detail = $"FLAGS ({kept}) on replica uids {uids}",
            }));
            carriedNow[group.Key] = (await StoreAsync(context, folder, uids, kept, carried, cancellationToken).ConfigureAwait(false)).ToString();
        }
        store.InTransaction(() =>
        {
            store.Messages.Remove(folder.Id, rows.Select(r => r.PrimaryUid));
            store.Kept.Keep(folder.Id, rows, r => carriedNow[r.Flags]);
            store.Journal.Complete(journals);
        });
        foreach (var r in rows) Log.Kept(context.Logger, folder.PrimaryName, r.PrimaryUid, r.ReplicaUid);
        return rows.Count;
    }

    /// <summary>A folder with no room for another keyword still has its copies kept, without the keyword (told once).</summary>
    /// <returns>The flags the copies carry now.</returns>
    private static async Task<MessageFlags> StoreAsync(SyncContext context, FolderRecord folder, UidSet uids, MessageFlags kept, MessageFlags carried, CancellationToken cancellationToken)
    {
        try
        {
            await context.Replica.SetFlagsAsync(uids, kept, cancellationToken).ConfigureAwait(false);
            return kept;
        }
        catch (ImapCommandException refusal) when (context.Policy.ArchiveKeyword is { } keyword && TroubleTracker.ConcernsTheMessages(refusal))
        {
            var without = kept.Without(keyword);
            if (!without.Equals(carried)) await context.Replica.SetFlagsAsync(uids, without, cancellationToken).ConfigureAwait(false);
            if (context.Notices.First($"archive-keyword/{context.ReplicaId}/{folder.PrimaryName}"))
                Log.KeywordsDropped(context.Logger, folder.PrimaryName, keyword, TroubleTracker.Describe(refusal));
            return without;
        }
    }
}

using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>Applies on the replica the expunges whose move window has passed.</summary>
internal static class PendingExpunges
{
    /// <returns>How many replica copies were removed.</returns>
    /// <remarks>A folder whose flush the server refuses is put in trouble; the others are flushed.</remarks>
    public static async Task<int> FlushAsync(SyncContext context, DateTimeOffset markedBefore, TroubleTracker troubles, CancellationToken cancellationToken)
    {
        var due = context.Store.Messages.VanishedBefore(context.ReplicaId, markedBefore);
        var removed = 0;
        foreach (var group in due.GroupBy(m => m.FolderId))
        {
            var folder = context.Store.Folders.Get(group.Key);
            if (folder is null || troubles.IsWaiting(folder.PrimaryName)) continue;
            try
            {
                removed += await FlushFolderAsync(context, folder, group.ToList(), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (TroubleTracker.IsFolderError(ex))
            {
                troubles.Record(folder.PrimaryName, "error", TroubleTracker.Describe(ex));
            }
        }
        return removed;
    }

    private static async Task<int> FlushFolderAsync(SyncContext context, FolderRecord folder, List<MessageRecord> rows, CancellationToken cancellationToken)
    {
        var selected = await context.Replica.SelectAsync(folder.ReplicaName, readOnly: false, null, cancellationToken).ConfigureAwait(false);
        // Stored replica UIDs only mean something under the UIDVALIDITY they were learned in; the
        // folder's next sync notices the change and re-maps it before anything is removed.
        if (selected.UidValidity != folder.ReplicaUidValidity) return 0;
        var journal = context.Store.Journal.Begin(rows.Select(r => new JournalEntry
        {
            ReplicaId = context.ReplicaId,
            Folder = folder.PrimaryName,
            Operation = "expunge",
            PrimaryUid = r.PrimaryUid,
            Md5 = r.Md5,
            Size = r.Size,
            Detail = $"replica uid {r.ReplicaUid}",
        }));
        await context.Replica.ExpungeAsync(UidSet.FromUids(rows.Select(r => r.ReplicaUid)), cancellationToken).ConfigureAwait(false);
        context.Store.InTransaction(() =>
        {
            context.Store.Messages.Remove(folder.Id, rows.Select(r => r.PrimaryUid));
            context.Store.Journal.Complete(journal);
        });
        foreach (var r in rows) Log.Expunged(context.Logger, folder.PrimaryName, r.PrimaryUid, r.ReplicaUid);
        return rows.Count;
    }
}

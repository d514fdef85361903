using Observer.Imap;
using Observer.State;

namespace Observer.Replication;

/// <summary>Applies on the replica the expunges whose move window has passed.</summary>
internal static class PendingExpunges
{
    /// <returns>How many replica copies were removed.</returns>
    public static async Task<int> FlushAsync(SyncContext context, DateTimeOffset markedBefore, Func<string, bool> skipFolder, CancellationToken cancellationToken)
    {
        var due = context.Store.Messages.VanishedBefore(context.ReplicaId, markedBefore);
        var removed = 0;
        foreach (var group in due.GroupBy(m => m.FolderId))
        {
            var folder = context.Store.Folders.Get(group.Key);
            if (folder is null || skipFolder(folder.PrimaryName)) continue;
            var rows = group.ToList();
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
            await context.Replica.SelectAsync(folder.ReplicaName, readOnly: false, null, cancellationToken).ConfigureAwait(false);
            await context.Replica.ExpungeAsync(UidSet.FromUids(rows.Select(r => r.ReplicaUid)), cancellationToken).ConfigureAwait(false);
            context.Store.InTransaction(() =>
            {
                context.Store.Messages.Remove(folder.Id, rows.Select(r => r.PrimaryUid));
                context.Store.Journal.Complete(journal);
            });
            foreach (var r in rows) Log.Expunged(context.Logger, folder.PrimaryName, r.PrimaryUid, r.ReplicaUid);
            removed += rows.Count;
        }
        return removed;
    }
}

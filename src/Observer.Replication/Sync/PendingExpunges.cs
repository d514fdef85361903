using System.Collections.Concurrent;
using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>Applies on the replica the expunges whose move window (or a delayed replica's delay) has passed.</summary>
internal static class PendingExpunges
{
    /// <returns>How many replica copies were removed.</returns>
    /// <remarks>A folder whose flush the server refuses is put in trouble; the others are flushed.</remarks>
    public static Task<int> FlushAsync(SyncContext context, DateTimeOffset markedBefore, TroubleTracker troubles, CancellationToken cancellationToken) =>
        FlushAsync([context], markedBefore, troubles, cancellationToken);

    /// <param name="contexts">Connections to share the folders among: each folder is flushed over one of them.</param>
    public static async Task<int> FlushAsync(IReadOnlyList<SyncContext> contexts, DateTimeOffset markedBefore, TroubleTracker troubles, CancellationToken cancellationToken)
    {
        var store = contexts[0].Store;
        var due = new ConcurrentQueue<IGrouping<long, MessageRecord>>(store.Messages.VanishedBefore(contexts[0].ReplicaId, markedBefore).GroupBy(m => m.FolderId));
        var removed = 0;
        await Task.WhenAll(contexts.Select(async context =>
        {
            while (due.TryDequeue(out var group))
            {
                var folder = store.Folders.Get(group.Key);
                if (folder is null || troubles.IsWaiting(folder.PrimaryName)) continue;
                try
                {
                    Interlocked.Add(ref removed, await FlushFolderAsync(context, folder, group.ToList(), cancellationToken).ConfigureAwait(false));
                }
                catch (Exception ex) when (TroubleTracker.IsFolderError(ex))
                {
                    troubles.Record(folder.PrimaryName, "error", TroubleTracker.Describe(ex));
                }
            }
        })).ConfigureAwait(false);
        return removed;
    }

    private static async Task<int> FlushFolderAsync(SyncContext context, FolderRecord folder, List<MessageRecord> rows, CancellationToken cancellationToken)
    {
        var selected = await context.Replica.SelectAsync(folder.ReplicaName, readOnly: false, null, cancellationToken).ConfigureAwait(false);
        // Stored replica UIDs only mean something under the UIDVALIDITY they were learned in; the
        // folder's next sync notices the change and re-maps it before anything is removed.
        if (selected.UidValidity != folder.ReplicaUidValidity) return 0;
        return await ExpungeSelectedAsync(context, folder, rows, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Removes these copies from the replica folder, which must be selected under the UIDVALIDITY their rows were learned in.
    /// An archive keeps them instead (<see cref="ArchivedCopies"/>).
    /// </summary>
    public static async Task<int> ExpungeSelectedAsync(SyncContext context, FolderRecord folder, IReadOnlyList<MessageRecord> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0) return 0;
        if (context.Policy.Keeps) return await ArchivedCopies.KeepAsync(context, folder, rows, cancellationToken).ConfigureAwait(false);
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
        ReplicationMetrics.Wrote(context.Target, "expunge", rows.Count);
        return rows.Count;
    }
}

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
        if (context.Policy.ArchiveKeyword is { } keyword)
        {
            // The keyword is set over the flags each copy carries, one STORE per set of them, as the flag pass does.
            foreach (var group in rows.GroupBy(r => r.Flags))
            {
                var journal = store.Journal.Begin(new JournalEntry
                {
                    ReplicaId = context.ReplicaId,
                    Folder = folder.PrimaryName,
                    Operation = "keep",
                    Detail = $"{keyword} on replica uids {UidSet.FromUids(group.Select(r => r.ReplicaUid))}",
                });
                await context.Replica.SetFlagsAsync(UidSet.FromUids(group.Select(r => r.ReplicaUid)), MessageFlags.Parse(group.Key).With(keyword), cancellationToken).ConfigureAwait(false);
                store.Journal.Complete([journal]);
            }
        }
        store.InTransaction(() =>
        {
            store.Messages.Remove(folder.Id, rows.Select(r => r.PrimaryUid));
            store.Kept.Keep(folder.Id, rows);
        });
        foreach (var r in rows) Log.Kept(context.Logger, folder.PrimaryName, r.PrimaryUid, r.ReplicaUid);
        return rows.Count;
    }
}

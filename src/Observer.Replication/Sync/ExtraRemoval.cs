using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

internal static class ExtraRemoval
{
    /// <summary>
    /// Expunges replica messages no row records (the primary has no message they are a copy of, or they are a second
    /// copy of one), journaled first, as every replica write is.
    /// </summary>
    public static async Task ExpungeAsync(SyncContext context, FolderRecord folder, UidSet uids, string why, CancellationToken cancellationToken)
    {
        var journal = context.Store.Journal.Begin(new JournalEntry
        {
            ReplicaId = context.ReplicaId,
            Folder = folder.PrimaryName,
            Operation = JournalRepository.RemoveExtra,
            Detail = $"replica uids {uids}{why}",
        });
        await context.Replica.ExpungeAsync(uids, cancellationToken).ConfigureAwait(false);
        context.Store.Journal.Complete([journal]);
    }
}

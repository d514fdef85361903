using Microsoft.Extensions.Logging;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// A replica RENAME is journalled before it is sent, like every replica write. If its answer is lost
/// (the connection cut while Courier spent 2 s on it), the state still knows the folder by its old name
/// while the replica has it under the new one; should the primary then delete the folder, the renamed
/// copy would be left on the replica alone. The next tree sync settles each open intent from the
/// replica's own list before anything else: renamed there means renamed in the state too.
/// </summary>
internal sealed class FolderRenameIntents(SyncContext context)
{
    /// <summary>The journal operation of a folder rename; the folder synchronizer leaves these to the tree sync.</summary>
    public const string Operation = JournalRepository.FolderRename;

    private const char Separator = '\n';

    public long Begin(FolderRecord folder, string newPrimaryName, string newReplicaName) =>
        context.Store.Journal.Begin(new JournalEntry
        {
            ReplicaId = context.ReplicaId,
            Folder = folder.PrimaryName,
            Operation = Operation,
            Detail = string.Join(Separator, newPrimaryName, folder.ReplicaName, newReplicaName),
        });

    /// <summary>Records a rename the replica carried out (or had no folder to carry out), with its intent, in one transaction.</summary>
    public void Apply(long? intent, FolderRecord folder, string newPrimaryName, string newReplicaName)
    {
        var store = context.Store;
        var names = context.Names;
        store.InTransaction(() =>
        {
            store.Folders.Rename(context.ReplicaId, folder.PrimaryName, newPrimaryName, names.PrimaryDelimiter, folder.ReplicaName, newReplicaName, names.ReplicaDelimiter);
            store.Troubles.Rename(context.ReplicaId, folder.PrimaryName, newPrimaryName, names.PrimaryDelimiter);
            store.Holds.Rename(context.ReplicaId, folder.PrimaryName, newPrimaryName, names.PrimaryDelimiter);
            store.Journal.Rename(context.ReplicaId, folder.PrimaryName, newPrimaryName, names.PrimaryDelimiter);
            if (intent is { } id) store.Journal.Complete([id]);
        });
        Log.FolderRenamed(context.Logger, folder.PrimaryName, newPrimaryName);
    }

    public void Abandon(long intent) => context.Store.Journal.Abandon([intent]);

    /// <summary>
    /// A server may still be carrying out a RENAME whose connection was cut: Courier spends seconds on
    /// one, and finishes it after the client has gone. Until then its list shows the old name, or both.
    /// </summary>
    public static readonly TimeSpan AnswerGrace = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan LookAgainEvery = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Settles the intents left open by a lost answer, from the replica's list: the new name listed and the
    /// old one not means the replica renamed it. Otherwise, within <see cref="AnswerGrace"/> of sending it,
    /// the list is read again until it shows the rename done; after that the intent is dropped as not done.
    /// </summary>
    /// <param name="replicaNames">The replica's folders; brought up to date if the list is read again.</param>
    /// <param name="meanwhile">Run between two looks: new mail in INBOX is not kept waiting for a rename that may never land.</param>
    /// <returns>The new primary names of the renames found done.</returns>
    public async Task<IReadOnlyList<string>> SettleAsync(HashSet<string> replicaNames, FolderListing listing, Func<CancellationToken, Task> meanwhile,
        CancellationToken cancellationToken)
    {
        var open = context.Store.Journal.Open(context.ReplicaId).Where(e => e.Operation == Operation).ToList();
        // Not while INBOX itself is the folder whose rename is in doubt.
        var mailMayGoFirst = !open.Any(e => FolderNameMapper.IsInbox(e.Folder));
        var told = false;
        while (open.FirstOrDefault(e => !Done(e, replicaNames) && context.Time.GetUtcNow() - e.BegunAt < AnswerGrace) is { } waited)
        {
            if (!told)
            {
                context.Logger.LogInformation("the answer to renaming folder {Old} to {New} on the replica was lost; waiting up to {Seconds:0} s for the replica to carry it out{Meanwhile}",
                    waited.Folder, Names(waited).NewPrimaryName, (AnswerGrace - (context.Time.GetUtcNow() - waited.BegunAt)).TotalSeconds,
                    mailMayGoFirst ? ", letting new mail in INBOX go first" : "");
                told = true;
            }
            await Task.Delay(LookAgainEvery, context.Time, cancellationToken).ConfigureAwait(false);
            if (mailMayGoFirst) await meanwhile(cancellationToken).ConfigureAwait(false);
            // On a new connection too: a long-lived session may list a renamed folder by its old name for minutes.
            var listed = await listing.ReadAsync(ServerRole.Replica, ListingDoubt.Check, cancellationToken).ConfigureAwait(false);
            replicaNames.Clear();
            replicaNames.UnionWith(listed.Where(m => m.Mailbox.IsSelectable).Select(m => m.Mailbox.Name));
        }
        var settled = new List<string>();
        foreach (var entry in open)
        {
            if (!Done(entry, replicaNames))
            {
                Abandon(entry.Id);
                continue;
            }
            var (newPrimaryName, _, newReplicaName) = Names(entry);
            context.Logger.LogInformation("folder {Old} was renamed to {New} on the replica, though its answer was lost; recorded it", entry.Folder, newPrimaryName);
            Apply(entry.Id, context.Store.Folders.Find(context.ReplicaId, entry.Folder)!, newPrimaryName, newReplicaName);
            settled.Add(newPrimaryName);
        }
        return settled;
    }

    private bool Done(JournalEntry entry, IReadOnlySet<string> replicaNames)
    {
        var (newPrimaryName, oldReplicaName, newReplicaName) = Names(entry);
        var folder = context.Store.Folders.Find(context.ReplicaId, entry.Folder);
        return newReplicaName.Length > 0 && folder is not null && folder.ReplicaName == oldReplicaName
            && replicaNames.Contains(newReplicaName) && !replicaNames.Contains(oldReplicaName)
            && context.Store.Folders.Find(context.ReplicaId, newPrimaryName) is null;
    }

    private static (string NewPrimaryName, string OldReplicaName, string NewReplicaName) Names(JournalEntry entry) =>
        (entry.Detail ?? "").Split(Separator) is [var newPrimary, var oldReplica, var newReplica] ? (newPrimary, oldReplica, newReplica) : ("", "", "");
}

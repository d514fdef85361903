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
    /// Settles the intents left open by a lost answer, from the replica's list: the new name listed and the
    /// old one not means the replica renamed it; anything else means it did not, and the intent is dropped.
    /// </summary>
    /// <returns>The new primary names of the renames found done.</returns>
    public IReadOnlyList<string> Settle(IReadOnlySet<string> replicaNames)
    {
        var settled = new List<string>();
        foreach (var entry in context.Store.Journal.Open(context.ReplicaId).Where(e => e.Operation == Operation))
        {
            var parts = (entry.Detail ?? "").Split(Separator);
            var folder = context.Store.Folders.Find(context.ReplicaId, entry.Folder);
            var done = parts.Length == 3 && folder is not null && folder.ReplicaName == parts[1]
                && replicaNames.Contains(parts[2]) && !replicaNames.Contains(parts[1])
                && context.Store.Folders.Find(context.ReplicaId, parts[0]) is null;
            if (!done)
            {
                Abandon(entry.Id);
                continue;
            }
            context.Logger.LogInformation("folder {Old} was renamed to {New} on the replica, though its answer was lost; recorded it", entry.Folder, parts[0]);
            Apply(entry.Id, folder!, parts[0], parts[2]);
            settled.Add(parts[0]);
        }
        return settled;
    }
}

using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>What both folder lists showed a tree sync, before it wrote anything.</summary>
/// <param name="Changed">How many folders look changed since their checkpoints, new ones included.</param>
/// <param name="Settled">Folders the tree sync will not rename, delete or create: safe to sync beside it.</param>
internal sealed record ListedTree(int Changed, IReadOnlyList<FolderRecord> Settled,
    IReadOnlyDictionary<string, MailboxStatus> PrimaryStatus, IReadOnlyDictionary<string, MailboxStatus> ReplicaStatus);

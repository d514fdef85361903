using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>Whether the primary's status, as LIST-STATUS gives it, shows changes past a folder's checkpoint.</summary>
internal static class PrimaryCheckpoint
{
    /// <remarks>
    /// The message count counts only without mod-sequences: while deletions are held, the checkpoint keeps the
    /// count from before them, and such a folder would otherwise look changed at every look. A checkpoint
    /// without a mod-sequence (a message the primary did not deliver) is always behind.
    /// </remarks>
    public static bool Moved(FolderRecord folder, MailboxStatus status) =>
        (status.UidValidity is { } validity && validity != folder.PrimaryUidValidity)
        || (status.UidNext is { } next && next != folder.PrimaryUidNext)
        || (status.HighestModSeq is { } modSeq
            ? modSeq != folder.PrimaryModSeq
            : status.Messages is { } messages && messages != folder.PrimaryMessages);
}

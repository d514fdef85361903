using MailKit.Net.Imap;
using Observer.Mail;

namespace Observer.TestSupport;

/// <summary>Moves messages of the selected folder as a client would: UID MOVE where offered, else COPY, \Deleted and EXPUNGE.</summary>
public static class MessageMover
{
    /// <summary>Returns how it moved them: "MOVE" or "COPY+EXPUNGE".</summary>
    public static async Task<string> MoveAsync(UserImapClient client, UidSet uids, string target)
    {
        if (client.Capabilities.HasFlag(ImapCapabilities.Move))
        {
            await client.UidMoveAsync(uids, target);
            return "MOVE";
        }
        await client.UidCopyAsync(uids, target);
        await ExpungeAsync(client, uids);
        return "COPY+EXPUNGE";
    }

    /// <summary>
    /// Flags and expunges exactly these messages with UID EXPUNGE; without UIDPLUS, a plain EXPUNGE,
    /// which also removes whatever else another client flagged \Deleted, as it would for a real user.
    /// </summary>
    public static async Task ExpungeAsync(UserImapClient client, UidSet uids)
    {
        await client.UidStoreAsync(uids, StoreMode.Add, new MessageFlags([MessageFlags.Deleted]), silent: true);
        if (client.Capabilities.HasFlag(ImapCapabilities.UidPlus)) await client.UidExpungeAsync(uids);
        else await client.ExpungeAsync();
    }
}

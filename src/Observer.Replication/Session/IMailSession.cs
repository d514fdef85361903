using System.Threading.Channels;
using Observer.Mail;

namespace Observer.Replication;

/// <summary>
/// The narrow view of one logged-in IMAP session that the engine needs. The engine never sees a
/// socket or a protocol detail; Observer.MailKit's session implements this over MailKit.
/// </summary>
public interface IMailSession : IAsyncDisposable
{
    /// <summary>"primary" or "replica", for messages.</summary>
    string Role { get; }

    SessionFeatures Features { get; }

    char? Delimiter { get; }

    /// <summary>The personal namespace prefix, such as "INBOX." on Courier and Cyrus, or "".</summary>
    string PersonalPrefix { get; }

    bool IsConnected { get; }

    /// <summary>The folder currently selected, if any.</summary>
    string? SelectedFolder { get; }

    Task<IReadOnlyList<MailboxWithStatus>> ListAsync(bool withStatus, CancellationToken cancellationToken);

    Task<MailboxStatus> StatusAsync(string folder, CancellationToken cancellationToken);

    Task<SelectedMailbox> SelectAsync(string folder, bool readOnly, QResyncParameters? qresync, CancellationToken cancellationToken);

    Task UnselectAsync(CancellationToken cancellationToken);

    /// <summary>UID, FLAGS and (with CONDSTORE) MODSEQ; with <paramref name="changedSince"/>, only changes, plus VANISHED under QRESYNC.</summary>
    Task<FetchResult> FetchFlagsAsync(UidSet uids, ulong? changedSince, CancellationToken cancellationToken);

    /// <summary>UID, FLAGS, INTERNALDATE and RFC822.SIZE: what an APPEND needs besides the body.</summary>
    Task<FetchResult> FetchAttributesAsync(UidSet uids, CancellationToken cancellationToken);

    /// <summary>UID, FLAGS, INTERNALDATE, RFC822.SIZE and the Message-ID header: enough to find candidates without bodies.</summary>
    Task<FetchResult> FetchSummariesAsync(UidSet uids, CancellationToken cancellationToken);

    /// <summary>Whole messages with UID, FLAGS, INTERNALDATE and RFC822.SIZE, streamed. Each must be disposed.</summary>
    IAsyncEnumerable<MessageData> FetchMessagesAsync(UidSet uids, CancellationToken cancellationToken);

    /// <summary>Whole messages with their UIDs alone, streamed, for comparing content: one command fewer where flags, dates and sizes are not wanted. Each must be disposed.</summary>
    IAsyncEnumerable<MessageData> FetchBodiesAsync(UidSet uids, CancellationToken cancellationToken);

    /// <summary>
    /// The size and MD5 of each message's raw bytes, worked out as they arrive and kept nowhere: for checking a copy,
    /// where the bytes themselves are not wanted. Explicit UIDs only; one that does not exist is simply not there.
    /// </summary>
    async IAsyncEnumerable<MessageDigest> FetchDigestsAsync(UidSet uids, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var message in FetchBodiesAsync(uids, cancellationToken).ConfigureAwait(false))
        {
            using (message)
                yield return new MessageDigest(message.Uid!.Value, message.Body!.Length, await Md5.OfAsync(message.Body, cancellationToken).ConfigureAwait(false));
        }
    }

    Task<UidSet> SearchAsync(SearchQuery query, CancellationToken cancellationToken);

    Task<AppendResult> AppendAsync(string folder, IReadOnlyList<AppendMessage> messages, CancellationToken cancellationToken);

    /// <summary>Sets exactly these flags (FLAGS.SILENT).</summary>
    Task SetFlagsAsync(UidSet uids, MessageFlags flags, CancellationToken cancellationToken);

    /// <summary>Removes exactly these messages from the selected folder and no others.</summary>
    Task ExpungeAsync(UidSet uids, CancellationToken cancellationToken);

    Task<CopyResult?> CopyAsync(UidSet uids, string destination, CancellationToken cancellationToken);

    Task<CopyResult?> MoveAsync(UidSet uids, string destination, CancellationToken cancellationToken);

    Task CreateAsync(string folder, CancellationToken cancellationToken);

    Task DeleteAsync(string folder, CancellationToken cancellationToken);

    Task RenameAsync(string folder, string newName, CancellationToken cancellationToken);

    Task SetSubscribedAsync(string folder, bool subscribed, CancellationToken cancellationToken);

    Task NoopAsync(CancellationToken cancellationToken);

    /// <summary>
    /// What the server reported on its own, once watching began (<see cref="WatchAllAsync"/> or
    /// <see cref="WatchFolderAsync"/>). Delivered while a command runs, IDLE and NOOP included.
    /// </summary>
    ChannelReader<MailEvent> Events { get; }

    /// <summary>Opens the folder read-only and learns its messages, so that its events can name them by UID.</summary>
    Task WatchFolderAsync(string folder, CancellationToken cancellationToken);

    /// <summary>The UIDs and flags of the messages that arrived in the watched folder since it was last asked.</summary>
    Task<IReadOnlyDictionary<uint, MessageFlags>> FetchArrivalsAsync(CancellationToken cancellationToken);

    Task IdleAsync(CancellationToken done, CancellationToken cancellationToken);

    /// <summary>NOTIFY SET for every personal mailbox: new, expunged, flag changes, names and subscriptions.</summary>
    Task WatchAllAsync(CancellationToken cancellationToken);

    /// <summary>
    /// After <see cref="WatchAllAsync"/>: keeps the server's news arriving on <see cref="Events"/> until
    /// cancelled, and proves the connection alive at least every <paramref name="keepAlive"/>. A client
    /// that reads only while a command runs sends NOOPs for it. A broken connection ends the events.
    /// </summary>
    Task ListenAsync(TimeSpan keepAlive, CancellationToken cancellationToken);

    Task LogoutAsync(CancellationToken cancellationToken);
}

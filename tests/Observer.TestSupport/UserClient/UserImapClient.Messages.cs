using MailKit;
using MailKit.Net.Imap;
using Observer.Mail;
using Observer.MailKit;
using KitFlags = MailKit.MessageFlags;
using MessageFlags = Observer.Mail.MessageFlags;
using SearchQuery = Observer.Mail.SearchQuery;

namespace Observer.TestSupport;

/// <summary>The selected folder and its messages: SELECT, SEARCH, STORE, APPEND, EXPUNGE, COPY and MOVE.</summary>
public sealed partial class UserImapClient
{
    private FullNameFolder? _open;
    private SelectedMailbox? _selected;
    private int _mailboxChanges;

    /// <summary>What the last SELECT or EXAMINE reported, while that folder is still selected.</summary>
    public SelectedMailbox? Selected => _open is { IsOpen: true } ? _selected : null;

    /// <summary>How often the server has told of messages coming to or going from the selected folder (EXISTS, EXPUNGE, VANISHED).</summary>
    public int MailboxChanges => Volatile.Read(ref _mailboxChanges);

    public Task<SelectedMailbox> SelectAsync(string mailbox, CancellationToken cancellationToken = default) =>
        OpenAsync("SELECT", mailbox, FolderAccess.ReadWrite, cancellationToken);

    public Task<SelectedMailbox> ExamineAsync(string mailbox, CancellationToken cancellationToken = default) =>
        OpenAsync("EXAMINE", mailbox, FolderAccess.ReadOnly, cancellationToken);

    /// <summary>Leaves the selected folder without expunging anything.</summary>
    public Task UnselectAsync(CancellationToken cancellationToken = default) =>
        RunAsync("UNSELECT", async () =>
        {
            var open = Leave();
            if (open is not { IsOpen: true }) return;
            if (Capabilities.HasFlag(ImapCapabilities.Unselect))
            {
                await open.CloseAsync(expunge: false, cancellationToken);
                return;
            }
            // Without UNSELECT MailKit's close sends nothing and the folder stays selected, writable:
            // INBOX examined instead holds nothing that could be expunged by mistake.
            await _client.Inbox.OpenAsync(FolderAccess.ReadOnly, cancellationToken);
            await _client.Inbox.CloseAsync(expunge: false, cancellationToken);
        });

    public Task<UidSet> UidSearchAsync(SearchQuery query, CancellationToken cancellationToken = default) =>
        RunAsync("SEARCH", async () => (await Open().SearchAsync(query.ToKit(), cancellationToken)).ToUidSet());

    public Task UidStoreAsync(UidSet uids, StoreMode mode, MessageFlags flags, bool silent = false, CancellationToken cancellationToken = default) =>
        RunAsync("STORE", async () =>
        {
            var (system, keywords) = flags.WithoutRecent().ToKit();
            var action = mode switch { StoreMode.Add => StoreAction.Add, StoreMode.Remove => StoreAction.Remove, _ => StoreAction.Set };
            await Open().StoreAsync(uids.ToKit(), new StoreFlagsRequest(action, system, keywords) { Silent = silent }, cancellationToken);
        });

    public Task<AppendResult> AppendAsync(string mailbox, AppendMessage message, CancellationToken cancellationToken = default) =>
        RunAsync("APPEND", async () =>
        {
            var uid = await (await FolderAsync(mailbox, cancellationToken)).AppendAsync(Request(message), cancellationToken);
            return uid is { } u ? new AppendResult(u.Validity, UidSet.Single(u.Id)) : new AppendResult(null, null);
        });

    /// <summary>MULTIAPPEND (RFC 3502) where the server offers it, else one APPEND each.</summary>
    public Task<AppendResult> MultiAppendAsync(string mailbox, IReadOnlyList<AppendMessage> messages, CancellationToken cancellationToken = default) =>
        RunAsync("APPEND", async () =>
        {
            if (messages.Count == 0) return new AppendResult(null, UidSet.Empty);
            var folder = await FolderAsync(mailbox, cancellationToken);
            var uids = await folder.AppendAsync(messages.Select(Request).ToList<IAppendRequest>(), cancellationToken);
            return uids.Count == messages.Count ? new AppendResult(uids[0].Validity, uids.ToUidSet()) : new AppendResult(null, null);
        });

    /// <summary>EXPUNGE: removes every message marked \Deleted, whoever marked it.</summary>
    public Task ExpungeAsync(CancellationToken cancellationToken = default) =>
        RunAsync("EXPUNGE", () => Open().ExpungeAsync(cancellationToken));

    /// <summary>UID EXPUNGE (RFC 4315): removes exactly these messages, never others marked \Deleted.</summary>
    public Task UidExpungeAsync(UidSet uids, CancellationToken cancellationToken = default)
    {
        // MailKit would imitate it by unmarking the others for a moment: not what a user's client does.
        if (!Capabilities.HasFlag(ImapCapabilities.UidPlus)) throw new NotSupportedException("the server has no UIDPLUS, so it cannot UID EXPUNGE");
        return RunAsync("EXPUNGE", () => Open().ExpungeAsync(uids.ToKit(), cancellationToken));
    }

    /// <summary>UID COPY; the map of new UIDs where the server gives one (COPYUID).</summary>
    public Task<CopyResult?> UidCopyAsync(UidSet uids, string destination, CancellationToken cancellationToken = default) =>
        RunAsync("COPY", async () => Copied(await Open().CopyToAsync(uids.ToKit(), await FolderAsync(destination, cancellationToken), cancellationToken)));

    /// <summary>UID MOVE (RFC 6851). Without MOVE on the server, copy, flag and expunge instead.</summary>
    public Task<CopyResult?> UidMoveAsync(UidSet uids, string destination, CancellationToken cancellationToken = default)
    {
        // MailKit would imitate it by copy and expunge: callers choose that themselves.
        if (!Capabilities.HasFlag(ImapCapabilities.Move)) throw new NotSupportedException("the server has no MOVE");
        return RunAsync("MOVE", async () => Copied(await Open().MoveToAsync(uids.ToKit(), await FolderAsync(destination, cancellationToken), cancellationToken)));
    }

    private Task<SelectedMailbox> OpenAsync(string command, string mailbox, FolderAccess access, CancellationToken cancellationToken) =>
        RunAsync(command, async () =>
        {
            var folder = await FolderAsync(mailbox, cancellationToken);
            // A failed SELECT leaves no folder selected (RFC 3501).
            Leave();
            await folder.OpenAsync(access, cancellationToken);
            Watch(folder);
            var modSeqs = folder.Supports(FolderFeature.ModSequences);
            return _selected = new SelectedMailbox
            {
                Name = mailbox,
                ReadOnly = folder.Access != FolderAccess.ReadWrite,
                Exists = (uint)folder.Count,
                UidValidity = folder.UidValidity,
                UidNext = folder.UidNext?.Id,
                HighestModSeq = modSeqs ? folder.HighestModSeq : null,
                NoModSeq = !modSeqs,
                Flags = KitConversions.ToFlags(folder.AcceptedFlags, folder.AcceptedKeywords),
                PermanentFlags = KitConversions.ToFlags(folder.PermanentFlags & ~KitFlags.UserDefined, folder.PermanentKeywords),
                AllowsNewKeywords = folder.PermanentFlags.HasFlag(KitFlags.UserDefined),
            };
        });

    private FullNameFolder Open() =>
        _open is { IsOpen: true } open ? open : throw new InvalidOperationException("no folder is selected");

    /// <summary>Counts, from now on, what the server says of messages coming to and going from <paramref name="folder"/>.</summary>
    private void Watch(FullNameFolder folder)
    {
        _open = folder;
        folder.CountChanged += OnMailboxChanged;
        folder.MessageExpunged += OnMailboxChanged;
        folder.MessagesVanished += OnMailboxChanged;
    }

    /// <summary>Forgets the selected folder; returns it.</summary>
    private FullNameFolder? Leave()
    {
        var open = _open;
        if (open is not null)
        {
            open.CountChanged -= OnMailboxChanged;
            open.MessageExpunged -= OnMailboxChanged;
            open.MessagesVanished -= OnMailboxChanged;
        }
        _open = null;
        _selected = null;
        return open;
    }

    private void OnMailboxChanged(object? sender, EventArgs e) => Interlocked.Increment(ref _mailboxChanges);

    private static AppendRequest Request(AppendMessage message)
    {
        var (flags, keywords) = (message.Flags ?? MessageFlags.None).WithoutRecent().ToKit();
        var content = message.Content;
        // The bytes go out as they are: tests compare the MD5 of what the servers store.
        var request = new AppendRequest(VerbatimMessage.From(content.Length, content.OpenRead), flags, keywords);
        // In UTC: MailKit writes offsets between -00:59 and -00:01 with the wrong sign.
        if (message.InternalDate is { } date) request.InternalDate = date.ToUniversalTime();
        return request;
    }

    private static CopyResult? Copied(UniqueIdMap map) =>
        map.Source.Count == 0 ? null : new CopyResult(map.Destination[0].Validity, map.Source.ToUidSet(), map.Destination.ToUidSet());
}

using System.Runtime.CompilerServices;
using System.Threading.Channels;
using MailKit;
using MailKit.Net.Imap;
using Observer.Mail;
using Observer.Replication;
using StatusItems = MailKit.StatusItems;
using ImapCapabilities = MailKit.Net.Imap.ImapCapabilities;
using FetchRequest = MailKit.FetchRequest;
using EngineFlags = Observer.Mail.MessageFlags;
using KitSearch = MailKit.Search.SearchQuery;

namespace Observer.MailKit;

/// <summary>
/// <see cref="IMailSession"/> over MailKit. Folders are addressed by full name: a MailKit folder object
/// is only a handle for a name (its cached state may be stale, its name on the wire never is). Every
/// call runs under the command deadline and fails in Observer's own terms (<see cref="MailKitFailures"/>).
/// </summary>
public sealed partial class MailKitMailSession : IMailSession
{
    private const StatusItems Replication = StatusItems.Count | StatusItems.UidNext | StatusItems.UidValidity | StatusItems.HighestModSeq;

    private readonly MailKitConnection _connection;
    private readonly SpoolingImapClient _client;
    private readonly TimeProvider _time;
    private readonly TimeSpan _deadline;
    private readonly PauseClock _pauses;
    private readonly Channel<MailEvent> _events = Channel.CreateBounded<MailEvent>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite });
    private ImapFolder? _root;
    private ImapFolder? _selected;
    private SequenceMap? _watched;
    private bool _eventsLost;

    internal MailKitMailSession(MailKitConnection connection, TimeSpan commandDeadline, TimeProvider time)
    {
        _connection = connection;
        _client = connection.Client;
        _time = time;
        _deadline = commandDeadline;
        _pauses = new PauseClock(time);
        var caps = _client.Capabilities;
        Features = new SessionFeatures
        {
            CondStore = caps.HasFlag(ImapCapabilities.CondStore),
            QResync = caps.HasFlag(ImapCapabilities.QuickResync),
            UidPlus = caps.HasFlag(ImapCapabilities.UidPlus),
            Move = caps.HasFlag(ImapCapabilities.Move),
            MultiAppend = caps.HasFlag(ImapCapabilities.MultiAppend),
            Notify = caps.HasFlag(ImapCapabilities.Notify),
            Idle = caps.HasFlag(ImapCapabilities.Idle),
            ListStatus = caps.HasFlag(ImapCapabilities.ListStatus) && caps.HasFlag(ImapCapabilities.ListExtended),
            Unselect = caps.HasFlag(ImapCapabilities.Unselect),
        };
        var personal = _client.PersonalNamespaces.FirstOrDefault();
        Delimiter = personal?.DirectorySeparator;
        // MailKit trims the prefix's trailing delimiter ("INBOX." becomes "INBOX"); Observer's prefix keeps it.
        PersonalPrefix = personal is { Path.Length: > 0 } ? personal.Path + personal.DirectorySeparator : "";
        _client.FolderCreated += (_, e) => Post(FolderCreatedEvent(e.Folder));
        connection.Tap.NotificationOverflow += () => Post(new EventsLost());
        connection.Tap.Utf8Status += status =>
        {
            // With UTF8=ACCEPT on, MailKit knows folders by their UTF-8 names and reports the STATUS itself.
            if (_watchingAll && !_utf8Enabled) Post(new FolderStatusChanged(status.Mailbox, Features.CondStore ? status.HighestModSeq : null, status.UidNext));
        };
    }

    public string Role => _connection.Side;
    public SessionFeatures Features { get; }
    public char? Delimiter { get; }
    public string PersonalPrefix { get; }
    public bool IsConnected => _connection.IsConnected;
    public string? SelectedFolder => _selected is { IsOpen: true } ? _selected.FullName : null;
    public ChannelReader<MailEvent> Events => _events.Reader;

    public Task<IReadOnlyList<MailboxWithStatus>> ListAsync(bool withStatus, CancellationToken cancellationToken) =>
        RunAsync("LIST", async ct =>
        {
            var all = await EveryFolderNamespaceAsync(ct).ConfigureAwait(false);
            var listStatus = withStatus && Features.ListStatus;
            var listing = _client.BeginListing();
            var folders = await _client.GetFoldersAsync(all, listStatus ? Replication : StatusItems.None, subscribedOnly: false, ct).ConfigureAwait(false);
            _listedAll = true;
            // Without LIST-EXTENDED MailKit's \Subscribed never clears: LSUB's answer is the truth.
            HashSet<string>? subscribed = null;
            if (!_client.Capabilities.HasFlag(ImapCapabilities.ListExtended))
                subscribed = (await _client.GetFoldersAsync(all, StatusItems.None, subscribedOnly: true, ct).ConfigureAwait(false))
                    .Select(f => f.FullName).ToHashSet(StringComparer.Ordinal);
            var result = new List<MailboxWithStatus>();
            foreach (var folder in folders.Where(f => f.Exists && f.FullName.Length > 0))
            {
                var entry = ToEntry(folder, subscribed?.Contains(folder.FullName));
                MailboxStatus? status = null;
                if (withStatus && entry.IsSelectable)
                {
                    if (!listStatus) await folder.StatusAsync(Replication, ct).ConfigureAwait(false);
                    // MailKit keeps a folder's last status: only one that came in this answer is this folder's now
                    // (Dovecot answers "* NO" in place of a stale folder's status).
                    if (folder.UidNext is not null && (!listStatus || ((SpoolingFolder)folder).StatusListing == listing)) status = ToStatus(folder);
                }
                result.Add(new MailboxWithStatus(entry, status));
            }
            return (IReadOnlyList<MailboxWithStatus>)result;
        }, cancellationToken);

    public Task<MailboxStatus> StatusAsync(string folder, CancellationToken cancellationToken) =>
        RunAsync("STATUS", async ct =>
        {
            var handle = await HandleAsync(folder, ct).ConfigureAwait(false);
            await handle.StatusAsync(Replication, ct).ConfigureAwait(false);
            return ToStatus(handle);
        }, cancellationToken);

    public Task<SelectedMailbox> SelectAsync(string folder, bool readOnly, QResyncParameters? qresync, CancellationToken cancellationToken) =>
        RunAsync(readOnly ? "EXAMINE" : "SELECT", async ct =>
        {
            var handle = await HandleAsync(folder, ct).ConfigureAwait(false);
            var vanished = new List<uint>();
            var changed = new Dictionary<uint, MessageData>();
            void OnVanished(object? sender, MessagesVanishedEventArgs e) => vanished.AddRange(e.UniqueIds.Select(u => u.Id));
            void OnFlags(object? sender, MessageFlagsChangedEventArgs e)
            {
                if (e.UniqueId is { } uid)
                    changed[uid.Id] = new MessageData { Uid = uid.Id, Flags = MailKitConversions.ToEngine(e.Flags, e.Keywords).WithoutRecent(), ModSeq = e.ModSeq };
            }
            handle.MessagesVanished += OnVanished;
            handle.MessageFlagsChanged += OnFlags;
            try
            {
                var access = readOnly ? FolderAccess.ReadOnly : FolderAccess.ReadWrite;
                _selected = null;
                if (qresync is not null && Features.QResync)
                    await handle.OpenAsync(access, qresync.UidValidity, qresync.ModSeq, qresync.KnownUids is { IsEmpty: false } known ? known.ToKit() : [], ct).ConfigureAwait(false);
                else
                    await handle.OpenAsync(access, ct).ConfigureAwait(false);
            }
            finally
            {
                handle.MessagesVanished -= OnVanished;
                handle.MessageFlagsChanged -= OnFlags;
            }
            _selected = handle;
            var modSeqs = handle.Supports(FolderFeature.ModSequences);
            var permanent = MailKitConversions.ToEngine(handle.PermanentFlags & ~global::MailKit.MessageFlags.UserDefined, handle.PermanentKeywords);
            return new SelectedMailbox
            {
                Name = folder,
                ReadOnly = handle.Access != FolderAccess.ReadWrite,
                Exists = (uint)handle.Count,
                UidValidity = handle.UidValidity,
                UidNext = handle.UidNext?.Id,
                HighestModSeq = modSeqs ? handle.HighestModSeq : null,
                NoModSeq = !modSeqs,
                Flags = MailKitConversions.ToEngine(handle.AcceptedFlags, handle.AcceptedKeywords),
                PermanentFlags = permanent,
                AllowsNewKeywords = handle.PermanentFlags.HasFlag(global::MailKit.MessageFlags.UserDefined),
                Vanished = UidSet.FromUids(vanished),
                Changed = changed.Values.OrderBy(m => m.Uid).ToList(),
            };
        }, cancellationToken);

    public Task UnselectAsync(CancellationToken cancellationToken) =>
        _selected is null ? Task.CompletedTask : RunAsync("UNSELECT", async ct =>
        {
            var selected = _selected;
            _selected = null;
            _watched = null;
            if (selected is not { IsOpen: true }) return;
            if (_client.Capabilities.HasFlag(ImapCapabilities.Unselect))
            {
                await selected.CloseAsync(expunge: false, ct).ConfigureAwait(false);
                return;
            }
            // Without UNSELECT MailKit's close sends nothing and the server keeps the folder selected, writable:
            // INBOX examined instead holds nothing that could be expunged by mistake.
            await _client.Inbox.OpenAsync(FolderAccess.ReadOnly, ct).ConfigureAwait(false);
            await _client.Inbox.CloseAsync(expunge: false, ct).ConfigureAwait(false);
        }, cancellationToken);

    public Task<FetchResult> FetchFlagsAsync(UidSet uids, ulong? changedSince, CancellationToken cancellationToken) =>
        RunAsync("FETCH", async ct =>
        {
            var folder = Selected();
            var items = MessageSummaryItems.UniqueId | MessageSummaryItems.Flags | (Features.CondStore ? MessageSummaryItems.ModSeq : 0);
            var vanished = new List<uint>();
            void OnVanished(object? sender, MessagesVanishedEventArgs e) => vanished.AddRange(e.UniqueIds.Select(u => u.Id));
            folder.MessagesVanished += OnVanished;
            IList<IMessageSummary> summaries;
            try
            {
                summaries = await folder.FetchAsync(uids.ToKit(), new FetchRequest(items) { ChangedSince = changedSince }, ct).ConfigureAwait(false);
            }
            finally
            {
                folder.MessagesVanished -= OnVanished;
            }
            var messages = summaries.Where(s => uids.Contains(s.UniqueId.Id))
                .Select(s => new MessageData { Uid = s.UniqueId.Id, Flags = Flags(s), ModSeq = s.ModSeq })
                .ToList();
            return new FetchResult(messages, changedSince is null ? UidSet.Empty : UidSet.FromUids(vanished.Where(uids.Contains)));
        }, cancellationToken);

    /// <remarks>
    /// Two commands. Dovecot answers NIL for the headers of a message another client expunged since this
    /// session last heard, which MailKit cannot read and drops the connection for; the first FETCH brings
    /// that news (its EXPUNGE comes with the answer), so the headers are asked only of what is still there,
    /// and a message gone between the two is left out rather than given the first answer's made-up date and size.
    /// </remarks>
    public Task<FetchResult> FetchSummariesAsync(UidSet uids, CancellationToken cancellationToken) =>
        RunAsync("FETCH", async ct =>
        {
            var basics = await AttributesAsync(uids, ct).ConfigureAwait(false);
            if (basics.Count == 0) return new FetchResult([], UidSet.Empty);
            var headers = new Dictionary<uint, MimeKit.HeaderList?>();
            foreach (var s in await Selected().FetchAsync(basics.Values.Select(s => s.UniqueId).ToList(),
                new FetchRequest(MessageSummaryItems.UniqueId) { Headers = new HeaderSet(["Message-ID"]) }, ct).ConfigureAwait(false))
                headers[s.UniqueId.Id] = s.Headers;
            var messages = basics.Values.Where(s => headers.ContainsKey(s.UniqueId.Id)).Select(s =>
            {
                var message = Attributes(s);
                message.HeaderFields = HeaderBytes(headers[s.UniqueId.Id]);
                return message;
            }).ToList();
            return new FetchResult(messages, UidSet.Empty);
        }, cancellationToken);

    public Task<FetchResult> FetchAttributesAsync(UidSet uids, CancellationToken cancellationToken) =>
        RunAsync("FETCH", async ct =>
        {
            var found = await AttributesAsync(uids, ct).ConfigureAwait(false);
            return new FetchResult(found.Values.Select(Attributes).ToList(), UidSet.Empty);
        }, cancellationToken);

    public async IAsyncEnumerable<MessageData> FetchMessagesAsync(UidSet uids, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // MailKit fetches bodies apart from their flags, date and size: those come first, in a command of their own.
        var summaries = await RunAsync("FETCH", ct => AttributesAsync(uids, ct), cancellationToken).ConfigureAwait(false);
        await foreach (var message in StreamBodiesAsync(summaries.Keys.Order().ToList(), summaries, digestsOnly: false, cancellationToken).ConfigureAwait(false))
            yield return message;
    }

    /// <summary>UID, FLAGS, INTERNALDATE and RFC822.SIZE of those asked for, by UID (a UID answered twice counts once).</summary>
    private async Task<Dictionary<uint, IMessageSummary>> AttributesAsync(UidSet uids, CancellationToken cancellationToken)
    {
        var found = await Selected().FetchAsync(uids.ToKit(),
            new FetchRequest(MessageSummaryItems.UniqueId | MessageSummaryItems.Flags | MessageSummaryItems.InternalDate | MessageSummaryItems.Size), cancellationToken).ConfigureAwait(false);
        var byUid = new Dictionary<uint, IMessageSummary>();
        foreach (var summary in found.Where(s => uids.Contains(s.UniqueId.Id))) byUid[summary.UniqueId.Id] = summary;
        return byUid;
    }

    private static MessageData Attributes(IMessageSummary summary) =>
        new() { Uid = summary.UniqueId.Id, Flags = Flags(summary), InternalDate = summary.InternalDate, Size = summary.Size };

    public IAsyncEnumerable<MessageData> FetchBodiesAsync(UidSet uids, CancellationToken cancellationToken) =>
        // "*" names UIDs only the server knows: they are learnt the long way.
        uids.Ranges.Any(r => r.End == UidSet.Star) ? FetchMessagesAsync(uids, cancellationToken) : StreamBodiesAsync(uids.Expand().ToList(), null, digestsOnly: false, cancellationToken);

    public async IAsyncEnumerable<MessageDigest> FetchDigestsAsync(UidSet uids, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // As for bodies, "*" (or the highest UID there is, which reads the same) is learnt the long way.
        var star = uids.Ranges.Any(r => r.End == UidSet.Star);
        var messages = star ? FetchMessagesAsync(uids, cancellationToken) : StreamBodiesAsync(uids.Expand().ToList(), null, digestsOnly: true, cancellationToken);
        await foreach (var message in messages.ConfigureAwait(false))
        {
            using (message)
                yield return new MessageDigest(message.Uid!.Value, message.Body!.Length, await Md5.OfAsync(message.Body, cancellationToken).ConfigureAwait(false));
        }
    }

    public Task<UidSet> SearchAsync(SearchQuery query, CancellationToken cancellationToken) =>
        RunAsync("SEARCH", async ct => (await Selected().SearchAsync(ToKit(query), ct).ConfigureAwait(false)).ToEngine(), cancellationToken);

    public Task<AppendResult> AppendAsync(string folder, IReadOnlyList<AppendMessage> messages, CancellationToken cancellationToken) =>
        RunAsync("APPEND", async ct =>
        {
            var handle = await HandleAsync(folder, ct).ConfigureAwait(false);
            IList<IAppendRequest> requests = messages.Select(ToRequest).ToList<IAppendRequest>();
            try
            {
                // One MULTIAPPEND, or (MailKit's doing, without it) one APPEND each; the engine sends batches
                // only to servers with MULTIAPPEND, and journals every message before.
                var uids = await handle.AppendAsync(requests, ct).ConfigureAwait(false);
                var named = uids.Count == requests.Count;
                return new AppendResult(named ? handle.UidValidity : null, named ? uids.ToEngine() : null);
            }
            finally
            {
                foreach (var request in requests) VerbatimMessage.Release(request.Message);
            }
        }, cancellationToken);

    public Task SetFlagsAsync(UidSet uids, EngineFlags flags, CancellationToken cancellationToken) =>
        RunAsync("STORE", async ct =>
        {
            var (system, keywords) = flags.ToKit();
            await Selected().StoreAsync(uids.ToKit(), new StoreFlagsRequest(StoreAction.Set, system, keywords) { Silent = true }, ct).ConfigureAwait(false);
        }, cancellationToken);

    public Task ExpungeAsync(UidSet uids, CancellationToken cancellationToken) =>
        RunAsync("EXPUNGE", async ct =>
        {
            var folder = Selected();
            var deleted = new StoreFlagsRequest(StoreAction.Add, global::MailKit.MessageFlags.Deleted) { Silent = true };
            await folder.StoreAsync(uids.ToKit(), deleted, ct).ConfigureAwait(false);
            if (Features.UidPlus)
            {
                await folder.ExpungeAsync(uids.ToKit(), ct).ConfigureAwait(false);
                return;
            }
            // Without UID EXPUNGE, a plain EXPUNGE would also take messages others marked \Deleted: unmark
            // those for the moment, expunge, and mark them again whatever happens.
            var others = (await folder.SearchAsync(KitSearch.Deleted, ct).ConfigureAwait(false)).Where(u => !uids.Contains(u.Id)).ToList();
            if (others.Count > 0)
                await folder.StoreAsync(others, new StoreFlagsRequest(StoreAction.Remove, global::MailKit.MessageFlags.Deleted) { Silent = true }, ct).ConfigureAwait(false);
            try
            {
                await folder.ExpungeAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                if (others.Count > 0 && _client.IsConnected)
                    await folder.StoreAsync(others, deleted, ct).ConfigureAwait(false);
            }
        }, cancellationToken);

    public Task<CopyResult?> CopyAsync(UidSet uids, string destination, CancellationToken cancellationToken) =>
        RunAsync("COPY", async ct =>
        {
            var target = await HandleAsync(destination, ct).ConfigureAwait(false);
            return ToCopyResult(await Selected().CopyToAsync(uids.ToKit(), target, ct).ConfigureAwait(false));
        }, cancellationToken);

    public Task<CopyResult?> MoveAsync(UidSet uids, string destination, CancellationToken cancellationToken)
    {
        // MailKit would emulate a missing MOVE by copy and expunge; the engine does that itself, knowingly.
        if (!Features.Move) throw new NotSupportedException($"the {Role} has no MOVE");
        return RunAsync("MOVE", async ct =>
        {
            var target = await HandleAsync(destination, ct).ConfigureAwait(false);
            return ToCopyResult(await Selected().MoveToAsync(uids.ToKit(), target, ct).ConfigureAwait(false));
        }, cancellationToken);
    }

    public Task CreateAsync(string folder, CancellationToken cancellationToken) =>
        RunAsync("CREATE", async ct => await (await RootAsync(ct).ConfigureAwait(false)).CreateByFullNameAsync(folder, ct).ConfigureAwait(false), cancellationToken);

    public Task DeleteAsync(string folder, CancellationToken cancellationToken) =>
        RunAsync("DELETE", async ct =>
        {
            var handle = await HandleAsync(folder, ct).ConfigureAwait(false);
            if (ReferenceEquals(handle, _selected)) _selected = null;
            await handle.DeleteAsync(ct).ConfigureAwait(false);
        }, cancellationToken);

    public Task RenameAsync(string folder, string newName, CancellationToken cancellationToken) =>
        RunAsync("RENAME", async ct =>
        {
            var handle = await HandleAsync(folder, ct).ConfigureAwait(false);
            if (ReferenceEquals(handle, _selected)) _selected = null;
            await handle.RenameToFullNameAsync(await RootAsync(ct).ConfigureAwait(false), newName, ct).ConfigureAwait(false);
        }, cancellationToken);

    public Task SetSubscribedAsync(string folder, bool subscribed, CancellationToken cancellationToken) =>
        RunAsync(subscribed ? "SUBSCRIBE" : "UNSUBSCRIBE", async ct =>
        {
            var handle = await HandleAsync(folder, ct).ConfigureAwait(false);
            if (subscribed) await handle.SubscribeAsync(ct).ConfigureAwait(false);
            else await handle.UnsubscribeAsync(ct).ConfigureAwait(false);
        }, cancellationToken);

    public Task NoopAsync(CancellationToken cancellationToken) => RunAsync("NOOP", ct => _client.NoOpAsync(ct), cancellationToken);

    /// <summary>
    /// Turns on what replication uses where the server offers it: QRESYNC, and UTF-8 folder names. Under the
    /// command deadline like any command: a primary that stopped answering ENABLE once held a new
    /// connection, and the whole pass waiting for it, for ever.
    /// </summary>
    internal Task EnableAsync(CancellationToken cancellationToken) =>
        RunAsync("ENABLE", async ct =>
        {
            if (_client.Capabilities.HasFlag(ImapCapabilities.QuickResync)) await _client.EnableQuickResyncAsync(ct).ConfigureAwait(false);
            if (_client.Capabilities.HasFlag(ImapCapabilities.UTF8Accept))
            {
                await _client.EnableUTF8Async(ct).ConfigureAwait(false);
                _utf8Enabled = true;
            }
        }, cancellationToken);

    private volatile bool _utf8Enabled;

    /// <summary>Servers may drop an IDLE after 30 minutes (RFC 2177): it is ended and begun again within that.</summary>
    public static readonly TimeSpan IdleRestartInterval = TimeSpan.FromMinutes(25);

    public async Task IdleAsync(CancellationToken done, CancellationToken cancellationToken)
    {
        while (!done.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            using var restart = new CancellationTokenSource(IdleRestartInterval, _time);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(done, restart.Token);
            // IDLE runs as long as it is wanted: its deadline starts when it is ended, for the answer to DONE.
            // (MailKit's own timeout does not reach a read of our stream: an unanswered DONE waited for ever.)
            using var wanted = _pauses.Pause();
            using var ended = either.Token.Register(wanted.Dispose);
            try
            {
                await RunAsync("IDLE", ct => _client.IdleAsync(either.Token, ct), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // MailKit reads nothing more once IDLE has failed: the watcher reading the events must know.
                _events.Writer.TryComplete(ex);
                throw;
            }
        }
    }

    public async Task LogoutAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RunAsync("LOGOUT", ct => _client.DisconnectAsync(quit: true, ct), cancellationToken).ConfigureAwait(false);
        }
        catch (ImapException)
        {
            // Logging out of a broken connection has nothing left to do.
        }
        catch (InvalidOperationException)
        {
            // MailKit is still in a command abandoned by a failure elsewhere: no polite LOGOUT can follow it.
            // Disposing the session closes the connection, which ends that command too.
        }
    }

    public ValueTask DisposeAsync()
    {
        _events.Writer.TryComplete();
        _connection.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The root of the folder tree (full name ""), which creates and renames go through.</summary>
    private async Task<SpoolingFolder> RootAsync(CancellationToken cancellationToken)
    {
        if (_root is not null) return (SpoolingFolder)_root;
        try
        {
            _root = (ImapFolder)_client.GetFolder(new FolderNamespace(Delimiter ?? '/', ""));
        }
        catch (FolderNotFoundException)
        {
            // Not cached at login on every server (Courier): one LIST "" "" finds it.
            _root = (ImapFolder)await _client.GetFolderAsync("", cancellationToken).ConfigureAwait(false);
        }
        return (SpoolingFolder)_root;
    }

    /// <summary>
    /// Whether this connection has listed every folder, which fills MailKit's folder cache. Without it,
    /// MailKit looks up each folder a connection first uses with a LIST of its own and one more for each
    /// parent: 58 LISTs in a one-shot sync after 200 changes, where one per connection does. A folder made
    /// by someone else since is still looked up by itself, as before.
    /// </summary>
    private bool _listedAll;

    /// <summary>A handle for a folder's full name: MailKit's cached object, or one LIST for it.</summary>
    private async Task<SpoolingFolder> HandleAsync(string name, CancellationToken cancellationToken)
    {
        if (name.Length == 0) return await RootAsync(cancellationToken).ConfigureAwait(false);
        if (!_listedAll) await ListEveryFolderAsync(cancellationToken).ConfigureAwait(false);
        return (SpoolingFolder)await _client.GetFolderAsync(name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The namespace that holds every folder, for a listing of them all.</summary>
    private async Task<FolderNamespace> EveryFolderNamespaceAsync(CancellationToken cancellationToken)
    {
        var root = await RootAsync(cancellationToken).ConfigureAwait(false);
        return new FolderNamespace(Delimiter ?? root.DirectorySeparator, "");
    }

    /// <summary>Every folder, without status: MailKit then knows them all (see <see cref="_listedAll"/>).</summary>
    private async Task<IList<IMailFolder>> ListEveryFolderAsync(CancellationToken cancellationToken)
    {
        var folders = await _client.GetFoldersAsync(await EveryFolderNamespaceAsync(cancellationToken).ConfigureAwait(false), StatusItems.None,
            subscribedOnly: false, cancellationToken).ConfigureAwait(false);
        _listedAll = true;
        return folders;
    }

    private ImapFolder Selected() =>
        _selected is { IsOpen: true } selected ? selected : throw new InvalidOperationException($"no folder is selected on the {Role}");

    /// <summary>One call, under the command deadline, failing in Observer's terms.</summary>
    private async Task<T> RunAsync<T>(string command, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        using var watch = new ResponseDeadline(_connection.Tap, _time, _deadline, _pauses, cancellationToken);
        try
        {
            var result = await MailKitFailures.RunAsync(command, Role, _connection.Tap, () => call(watch.Token), cancellationToken).ConfigureAwait(false);
            PostRecreatedFolders();
            return result;
        }
        catch (Exception ex) when (ex is ImapConnectionException or Observer.Mail.ImapProtocolException && watch.Reason is { } reason)
        {
            var why = _connection.Tap.OversizedLiteral is null ? "it is too slow or not an IMAP server, and the connection was closed" : "the connection was closed";
            var cut = new ImapConnectionException($"the {Role} {reason} in answer to {command}; {why}", ex);
            _events.Writer.TryComplete(cut);
            throw cut;
        }
        catch (Exception ex) when (ex is ImapConnectionException or Observer.Mail.ImapProtocolException)
        {
            // The connection is gone, and with it whatever the server would have said: a watcher reading
            // the events learns it here, as it would from a client whose read loop ended.
            _events.Writer.TryComplete(ex);
            throw;
        }
    }

    private Task RunAsync(string command, Func<CancellationToken, Task> call, CancellationToken cancellationToken) =>
        RunAsync(command, async ct =>
        {
            await call(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    private static MailboxListEntry ToEntry(IMailFolder folder, bool? subscribed)
    {
        var attributes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (folder.Attributes.HasFlag(FolderAttributes.NoSelect)) attributes.Add("\\Noselect");
        if (folder.Attributes.HasFlag(FolderAttributes.NonExistent)) attributes.Add("\\NonExistent");
        if (folder.Attributes.HasFlag(FolderAttributes.HasChildren)) attributes.Add("\\HasChildren");
        if (folder.Attributes.HasFlag(FolderAttributes.HasNoChildren)) attributes.Add("\\HasNoChildren");
        if (subscribed ?? folder.Attributes.HasFlag(FolderAttributes.Subscribed)) attributes.Add("\\Subscribed");
        foreach (var (flag, name) in SpecialUses)
            if (folder.Attributes.HasFlag(flag)) attributes.Add(name);
        return new MailboxListEntry(folder.FullName, folder.DirectorySeparator, attributes);
    }

    private static readonly (FolderAttributes Flag, string Name)[] SpecialUses =
    [
        (FolderAttributes.All, "\\All"), (FolderAttributes.Archive, "\\Archive"), (FolderAttributes.Drafts, "\\Drafts"),
        (FolderAttributes.Flagged, "\\Flagged"), (FolderAttributes.Junk, "\\Junk"), (FolderAttributes.Sent, "\\Sent"),
        (FolderAttributes.Trash, "\\Trash"), (FolderAttributes.Important, "\\Important"),
    ];

    private MailboxStatus ToStatus(IMailFolder folder) => new()
    {
        Messages = (uint)folder.Count,
        UidNext = folder.UidNext?.Id,
        UidValidity = folder.UidValidity,
        HighestModSeq = Features.CondStore && folder.HighestModSeq > 0 ? folder.HighestModSeq : null,
    };

    private static EngineFlags Flags(IMessageSummary summary) =>
        MailKitConversions.ToEngine(summary.Flags ?? global::MailKit.MessageFlags.None, summary.Keywords).WithoutRecent();

    /// <summary>The Message-ID header as the server sent it ("Message-ID: &lt;…&gt;"), for the engine to read.</summary>
    private static byte[]? HeaderBytes(MimeKit.HeaderList? headers)
    {
        if (headers is null) return null;
        using var bytes = new MemoryStream();
        foreach (var header in headers)
        {
            bytes.Write(System.Text.Encoding.ASCII.GetBytes(header.Field + ":"));
            bytes.Write(header.RawValue);
        }
        return bytes.ToArray();
    }

    /// <summary>Takes the fetched body over: a spool file as it is, a small one into memory.</summary>
    private static async Task<ImapLiteral> BodyAsync(Stream stream, CancellationToken cancellationToken)
    {
        if (stream is SpoolingFolder.DigestStream digest) return new DigestedLiteral(digest.Length, digest.Md5);
        if (stream is SpoolingFolder.KeptFileStream kept)
        {
            var (file, md5) = kept.Take();
            return TempFileLiteralSpool.Adopt(file, file.Length, md5);
        }
        // Filled to its exact size (SpoolingFolder.CreateStream): its array is the body.
        if (stream is MemoryStream filled && filled.Length == filled.Capacity)
            return ImapLiteral.FromBytes(filled.GetBuffer().AsMemory(0, (int)filled.Length));
        stream.Position = 0;
        var copy = new MemoryStream((int)Math.Min(stream.Length, int.MaxValue));
        await stream.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
        return ImapLiteral.FromBytes(copy.GetBuffer().AsMemory(0, (int)copy.Length));
    }

    private static IAppendRequest ToRequest(AppendMessage message)
    {
        var (flags, keywords) = (message.Flags ?? EngineFlags.None).WithoutRecent().ToKit();
        var content = message.Content;
        var request = new AppendRequest(VerbatimMessage.From(content.Length, content.OpenRead), flags, keywords);
        // In UTC: MailKit writes offsets between -00:59 and -00:01 with the wrong sign.
        if (message.InternalDate is { } date) request.InternalDate = date.ToUniversalTime();
        return request;
    }

    private static CopyResult? ToCopyResult(UniqueIdMap map) =>
        map.Source.Count == 0 ? null : new CopyResult(map.Destination.FirstOrDefault().Validity, map.Source.ToEngine(), map.Destination.ToEngine());

    private static KitSearch ToKit(SearchQuery query)
    {
        KitSearch? result = null;
        foreach (var (keyword, value) in query.Terms)
        {
            KitSearch term = keyword switch
            {
                "ALL" => KitSearch.All,
                "DELETED" => KitSearch.Deleted,
                _ when keyword.StartsWith("UID ", StringComparison.Ordinal) => KitSearch.Uids(UidSet.Parse(keyword[4..]).ToKit()),
                _ when keyword.StartsWith("HEADER ", StringComparison.Ordinal) => KitSearch.HeaderContains(keyword[7..], value ?? ""),
                _ when keyword.StartsWith("MODSEQ ", StringComparison.Ordinal) => KitSearch.ChangedSince(ulong.Parse(keyword[7..], System.Globalization.CultureInfo.InvariantCulture)),
                _ => throw new NotSupportedException($"search term {keyword} has no MailKit form"),
            };
            result = result is null ? term : result.And(term);
        }
        return result ?? KitSearch.All;
    }

    private void Post(MailEvent? e)
    {
        if (e is null) return;
        // Once events were dropped for want of room, the first thing said when there is room again is that.
        if (_eventsLost && _events.Writer.TryWrite(new EventsLost())) _eventsLost = false;
        if (_eventsLost || !_events.Writer.TryWrite(e)) _eventsLost = true;
    }
}

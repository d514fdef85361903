using System.Threading.Channels;
using Observer.Imap;
using Observer.Mail;

namespace Observer.Replication;

/// <summary><see cref="IMailSession"/> over the IMAP library.</summary>
internal sealed class ImapMailSession : IMailSession
{
    private static readonly FetchRequest Summaries = new(FetchItems.Flags | FetchItems.InternalDate | FetchItems.Size) { HeaderFields = ["Message-ID"] };
    private static readonly FetchRequest Messages = new(FetchItems.Flags | FetchItems.InternalDate | FetchItems.Size | FetchItems.Body);

    private readonly ImapClient _client;
    private SequenceMap? _watched;

    public ImapMailSession(string role, ImapClient client, char? delimiter, string personalPrefix)
    {
        Role = role;
        _client = client;
        Delimiter = delimiter;
        PersonalPrefix = personalPrefix;
        Events = new ImapEventReader(client.Events, () => _watched);
        var caps = client.Capabilities;
        Features = new SessionFeatures
        {
            CondStore = caps.CondStore,
            QResync = client.IsEnabled("QRESYNC"),
            UidPlus = caps.UidPlus,
            Move = caps.Move,
            MultiAppend = caps.MultiAppend,
            Notify = caps.Notify,
            Idle = caps.Idle,
            ListStatus = caps.ListStatus && caps.ListExtended,
        };
    }

    public string Role { get; }
    public SessionFeatures Features { get; }
    public char? Delimiter { get; }
    public string PersonalPrefix { get; }
    public bool IsConnected => _client.IsConnected;
    public string? SelectedFolder => _client.Selected?.Name;
    public ChannelReader<MailEvent> Events { get; }

    public async Task<IReadOnlyList<MailboxWithStatus>> ListAsync(bool withStatus, CancellationToken cancellationToken)
    {
        if (withStatus) return await _client.ListWithStatusAsync(StatusItems.Replication, "*", cancellationToken).ConfigureAwait(false);
        return (await _client.ListAsync("", "*", cancellationToken).ConfigureAwait(false)).Select(m => new MailboxWithStatus(m, null)).ToList();
    }

    public Task<MailboxStatus> StatusAsync(string folder, CancellationToken cancellationToken) =>
        _client.StatusAsync(folder, StatusItems.Replication, cancellationToken);

    public Task<SelectedMailbox> SelectAsync(string folder, bool readOnly, QResyncParameters? qresync, CancellationToken cancellationToken)
    {
        var options = new SelectOptions { CondStore = Features.CondStore, QResync = qresync };
        return readOnly ? _client.ExamineAsync(folder, options, cancellationToken) : _client.SelectAsync(folder, options, cancellationToken);
    }

    public Task UnselectAsync(CancellationToken cancellationToken) =>
        _client.Selected is null ? Task.CompletedTask : _client.UnselectAsync(cancellationToken);

    public Task<FetchResult> FetchFlagsAsync(UidSet uids, ulong? changedSince, CancellationToken cancellationToken) =>
        _client.UidFetchAsync(uids, new FetchRequest(FetchItems.Flags | FetchItems.ModSeq)
        {
            ChangedSince = changedSince,
            Vanished = changedSince is not null && Features.QResync,
        }, cancellationToken);

    public Task<FetchResult> FetchSummariesAsync(UidSet uids, CancellationToken cancellationToken) =>
        _client.UidFetchAsync(uids, Summaries, cancellationToken);

    public IAsyncEnumerable<MessageData> FetchMessagesAsync(UidSet uids, CancellationToken cancellationToken) =>
        _client.UidFetchStreamAsync(uids, Messages, cancellationToken);

    public Task<UidSet> SearchAsync(SearchQuery query, CancellationToken cancellationToken) => _client.UidSearchAsync(query, cancellationToken);

    public Task<AppendResult> AppendAsync(string folder, IReadOnlyList<AppendMessage> messages, CancellationToken cancellationToken) =>
        _client.MultiAppendAsync(folder, messages, cancellationToken);

    public Task SetFlagsAsync(UidSet uids, MessageFlags flags, CancellationToken cancellationToken) =>
        _client.UidStoreAsync(uids, StoreMode.Replace, flags, silent: true, cancellationToken: cancellationToken);

    public async Task ExpungeAsync(UidSet uids, CancellationToken cancellationToken)
    {
        await _client.UidStoreAsync(uids, StoreMode.Add, new MessageFlags([MessageFlags.Deleted]), silent: true, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (Features.UidPlus)
        {
            await _client.UidExpungeAsync(uids, cancellationToken).ConfigureAwait(false);
            return;
        }
        // Without UID EXPUNGE, a plain EXPUNGE would also take messages others marked \Deleted:
        // unmark those for the moment, expunge, and mark them again.
        var others = (await _client.UidSearchAsync(SearchQuery.Deleted, cancellationToken).ConfigureAwait(false)).Expand().Where(u => !uids.Contains(u)).ToList();
        var othersSet = UidSet.FromUids(others);
        if (others.Count > 0)
            await _client.UidStoreAsync(othersSet, StoreMode.Remove, new MessageFlags([MessageFlags.Deleted]), silent: true, cancellationToken: cancellationToken).ConfigureAwait(false);
        try
        {
            await _client.ExpungeAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (others.Count > 0 && _client.IsConnected)
                await _client.UidStoreAsync(othersSet, StoreMode.Add, new MessageFlags([MessageFlags.Deleted]), silent: true, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    public Task<CopyResult?> CopyAsync(UidSet uids, string destination, CancellationToken cancellationToken) =>
        _client.UidCopyAsync(uids, destination, cancellationToken);

    public Task<CopyResult?> MoveAsync(UidSet uids, string destination, CancellationToken cancellationToken) =>
        _client.UidMoveAsync(uids, destination, cancellationToken);

    public Task CreateAsync(string folder, CancellationToken cancellationToken) => _client.CreateAsync(folder, cancellationToken);

    public Task DeleteAsync(string folder, CancellationToken cancellationToken) => _client.DeleteAsync(folder, cancellationToken);

    public Task RenameAsync(string folder, string newName, CancellationToken cancellationToken) => _client.RenameAsync(folder, newName, cancellationToken);

    public Task SetSubscribedAsync(string folder, bool subscribed, CancellationToken cancellationToken) =>
        subscribed ? _client.SubscribeAsync(folder, cancellationToken) : _client.UnsubscribeAsync(folder, cancellationToken);

    public Task NoopAsync(CancellationToken cancellationToken) => _client.NoopAsync(cancellationToken);

    public Task IdleAsync(CancellationToken done, CancellationToken cancellationToken) => _client.IdleAsync(done, cancellationToken);

    public async Task WatchFolderAsync(string folder, CancellationToken cancellationToken)
    {
        await SelectAsync(folder, readOnly: true, null, cancellationToken).ConfigureAwait(false);
        var map = new SequenceMap();
        using (var all = await FetchFlagsAsync(UidSet.All, null, cancellationToken).ConfigureAwait(false))
            map.Reset(all.Messages.Select(m => m.Uid!.Value));
        _watched = map;
    }

    public async Task<IReadOnlyDictionary<uint, MessageFlags>> FetchArrivalsAsync(CancellationToken cancellationToken)
    {
        var map = _watched ?? throw new InvalidOperationException("no folder is watched on this session");
        var highest = map.HighestUid;
        using var fresh = await FetchFlagsAsync(UidSet.Range(highest + 1, UidSet.Star), null, cancellationToken).ConfigureAwait(false);
        // "n:*" always names the last message, even one already known: only higher UIDs are new.
        var arrived = fresh.Messages.Where(m => m.Uid > highest).ToDictionary(m => m.Uid!.Value, m => (m.Flags ?? MessageFlags.None).WithoutRecent());
        map.Append(arrived.Keys);
        return arrived;
    }

    public Task WatchAllAsync(CancellationToken cancellationToken) =>
        _client.NotifySetAsync(new NotifyRequest([
            new NotifyFilter(NotifyMailboxes.Personal,
                [NotifyEvent.MessageNew, NotifyEvent.MessageExpunge, NotifyEvent.FlagChange, NotifyEvent.MailboxName, NotifyEvent.SubscriptionChange]),
        ]), cancellationToken);

    /// <summary>This client reads the server's news as it comes: a NOOP now and then only proves a silent connection alive.</summary>
    public async Task ListenAsync(TimeSpan keepAlive, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(keepAlive, cancellationToken).ConfigureAwait(false);
                await NoopAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ImapException)
        {
            // A failed NOOP has broken the connection, which ends the events.
        }
    }

    public async Task LogoutAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _client.LogoutAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ImapException)
        {
            // Logging out of a broken connection has nothing left to do.
        }
    }

    public ValueTask DisposeAsync() => _client.DisposeAsync();
}

using MailKit;
using MailKit.Net.Imap;
using Observer.Mail;
using Observer.Replication;
using StatusItems = MailKit.StatusItems;
using ImapCapabilities = MailKit.Net.Imap.ImapCapabilities;

namespace Observer.MailKit;

/// <summary>
/// MailKit raises its events inside the call that read them (IDLE, NOOP or any other), on its read
/// loop: the handlers here only turn them into <see cref="MailEvent"/>s and post them, never calling
/// the client back.
/// </summary>
public sealed partial class MailKitMailSession
{
    private bool _watchingAll;

    public async Task WatchFolderAsync(string folder, CancellationToken cancellationToken)
    {
        await SelectAsync(folder, readOnly: true, null, cancellationToken).ConfigureAwait(false);
        var map = new SequenceMap();
        using (var all = await FetchFlagsAsync(UidSet.All, null, cancellationToken).ConfigureAwait(false))
            map.Reset(all.Messages.Select(m => m.Uid!.Value));
        var handle = _selected!;
        _watched = map;
        await KeepInStepAsync(map, cancellationToken).ConfigureAwait(false);
        handle.MessageExpunged += (_, e) =>
        {
            if (_watched == map) Post(new MessagesExpunged(map.Expunge((uint)e.Index + 1) is { } uid ? new HashSet<uint> { uid } : new HashSet<uint>()));
        };
        handle.MessagesVanished += (_, e) =>
        {
            if (_watched != map || e.Earlier) return;
            var uids = e.UniqueIds.Select(u => u.Id).ToHashSet();
            map.Remove(uids);
            Post(new MessagesExpunged(uids));
        };
        handle.CountChanged += (_, _) =>
        {
            if (_watched == map && handle.Count > map.Count) Post(new MessagesArrived());
        };
        handle.MessageFlagsChanged += (_, e) =>
        {
            if (_watched == map)
                Post(new MessageFlagsChanged(e.UniqueId?.Id ?? map.UidAt((uint)e.Index + 1), MailKitConversions.ToEngine(e.Flags, e.Keywords).WithoutRecent(), e.ModSeq));
        };
    }

    public async Task<IReadOnlyDictionary<uint, Observer.Mail.MessageFlags>> FetchArrivalsAsync(CancellationToken cancellationToken)
    {
        var map = _watched ?? throw new InvalidOperationException("no folder is watched on this session");
        var highest = map.HighestUid;
        using var fresh = await FetchFlagsAsync(UidSet.Range(highest + 1, UidSet.Star), null, cancellationToken).ConfigureAwait(false);
        // "n:*" always names the last message, even one already known: only higher UIDs are new.
        var arrived = fresh.Messages.Where(m => m.Uid > highest).ToDictionary(m => m.Uid!.Value, m => m.Flags ?? Observer.Mail.MessageFlags.None);
        map.Append(arrived.Keys);
        await KeepInStepAsync(map, cancellationToken).ConfigureAwait(false);
        return arrived;
    }

    /// <summary>
    /// MailKit applies an EXPUNGE the moment it reads it, while the map learns UIDs only when a fetch
    /// returns: a message expunged during that fetch would shift every position after it. MailKit's own
    /// count is exact; where the map's differs, it is read again and the watcher told to look at everything.
    /// </summary>
    private async Task KeepInStepAsync(SequenceMap map, CancellationToken cancellationToken)
    {
        if (_selected is not { } handle || map.Count == handle.Count) return;
        using (var all = await FetchFlagsAsync(UidSet.All, null, cancellationToken).ConfigureAwait(false))
            map.Reset(all.Messages.Select(m => m.Uid!.Value));
        Post(new EventsLost());
    }

    public Task WatchAllAsync(CancellationToken cancellationToken) =>
        RunAsync("NOTIFY", async ct =>
        {
            // MailKit drops STATUS news of folders it has not met: meet them all first.
            var folders = await ListEveryFolderAsync(ct).ConfigureAwait(false);
            _watchingAll = true;
            foreach (var folder in folders) Watch(folder);
            await _client.NotifyAsync(false, [new ImapEventGroup(ImapMailboxFilter.Personal,
                new ImapEvent.MessageNew(), ImapEvent.MessageExpunge, ImapEvent.FlagChange, ImapEvent.MailboxName, ImapEvent.SubscriptionChange)], ct).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>
    /// How often a NOTIFY session asks with NOOP: MailKit reads only while a command runs, and Dovecot was
    /// seen to deliver NOTIFY news late or not at all during IDLE, but at once on NOOP. The cost, about
    /// 170,000 NOOPs a day per account, is the price of MailKit's model until a better listener is found.
    /// </summary>
    public static readonly TimeSpan NotifyPumpInterval = TimeSpan.FromMilliseconds(500);

    public async Task ListenAsync(TimeSpan keepAlive, CancellationToken cancellationToken)
    {
        var interval = keepAlive < NotifyPumpInterval ? keepAlive : NotifyPumpInterval;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                // Not cancelled halfway: MailKit would drop the connection with it.
                await NoopAsync(CancellationToken.None).ConfigureAwait(false);
                await Task.Delay(interval, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The watcher is stopping.
        }
        catch (Exception ex)
        {
            // Nothing is read once the NOOPs stop: the watcher reading the events must know, and reconnect.
            _events.Writer.TryComplete(ex);
        }
    }

    /// <summary>A folder MailKit met for the first time: new on the server, when watching everything.</summary>
    private MailEvent? FolderCreatedEvent(IMailFolder folder)
    {
        if (!_watchingAll) return null;
        Watch(folder);
        return new FolderListChanged(null, folder.FullName, IsSelectable(folder));
    }

    private void Watch(IMailFolder folder)
    {
        void Status(object? sender, EventArgs e) =>
            Post(new FolderStatusChanged(folder.FullName, Features.CondStore && folder.HighestModSeq > 0 ? folder.HighestModSeq : null, folder.UidNext?.Id));
        folder.CountChanged += Status;
        folder.UidNextChanged += Status;
        folder.HighestModSeqChanged += Status;
        folder.Renamed += (_, e) => Post(new FolderListChanged(e.OldName, e.NewName, IsSelectable(folder)));
        folder.Deleted += (_, _) =>
        {
            lock (_deletedWhileWatched) _deletedWhileWatched.Add(folder);
            Post(new FolderListChanged(null, folder.FullName, false));
        };
        folder.Subscribed += (_, _) => Post(new FolderListChanged(null, folder.FullName, IsSelectable(folder)));
        folder.Unsubscribed += (_, _) => Post(new FolderListChanged(null, folder.FullName, IsSelectable(folder)));
    }

    /// <summary>
    /// Folders deleted on the server while watched. MailKit keeps the deleted folder's object; when the
    /// name is created again, the server's LIST only clears that object's \NonExistent, and MailKit
    /// raises no event for it. Looked at after each command, outside MailKit's read loop.
    /// </summary>
    private readonly HashSet<IMailFolder> _deletedWhileWatched = [];

    private void PostRecreatedFolders()
    {
        lock (_deletedWhileWatched)
        {
            if (_deletedWhileWatched.Count == 0) return;
            foreach (var folder in _deletedWhileWatched.Where(f => f.Exists).ToList())
            {
                _deletedWhileWatched.Remove(folder);
                Post(new FolderListChanged(null, folder.FullName, IsSelectable(folder)));
            }
        }
    }

    private static bool IsSelectable(IMailFolder folder) => folder.Exists && !folder.Attributes.HasFlag(FolderAttributes.NoSelect);
}

using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Observer.Imap;

namespace Observer.Replication;

/// <summary>
/// IDLE on one folder (RFC 2177). Every untagged response becomes a precise hint: EXISTS leads to a
/// UID FETCH of the new messages, FETCH FLAGS to a flag change, EXPUNGE is turned into a UID through
/// a sequence-to-UID map kept for the folder, VANISHED is taken as it is.
/// With a <paramref name="probeInterval"/> it sends NOOP at that interval instead of idling: the
/// low-latency mode, since a server reports at once on NOOP but holds back what it pushes in IDLE.
/// </summary>
internal sealed class IdleWatcher(IMailSessionFactory sessions, string folder, int slot, ReconnectOptions backoff, ILogger logger, TimeProvider time,
    TimeSpan? probeInterval = null) : IWatcher
{
    public string Name => probeInterval is null ? $"idle-{slot}" : $"probe-{slot}";

    public string Folder => folder;

    public Task RunAsync(ChannelWriter<ChangeSignal> signals, CancellationToken cancellationToken) =>
        WatcherLoop.RunAsync($"{Name} ({folder})", ct => WatchAsync(signals, ct), backoff, logger, time, cancellationToken);

    private async Task WatchAsync(ChannelWriter<ChangeSignal> signals, CancellationToken cancellationToken)
    {
        await using var session = await sessions.ConnectAsync(ServerRole.Primary, Name, cancellationToken).ConfigureAwait(false);
        await session.SelectAsync(folder, readOnly: true, null, cancellationToken).ConfigureAwait(false);
        var map = new SequenceMap();
        using (var all = await session.FetchFlagsAsync(UidSet.All, null, cancellationToken).ConfigureAwait(false))
            map.Reset(all.Messages.Select(m => m.Uid!.Value));
        // Whatever happened before this IDLE began is unknown.
        signals.TryWrite(new FolderChanged(folder, time.GetUtcNow()));

        while (!cancellationToken.IsCancellationRequested)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var idle = probeInterval is { } interval ? ProbeAsync(session, interval, stop.Token, cancellationToken) : session.IdleAsync(stop.Token, cancellationToken);
            var grew = await ForwardAsync(session, map, signals, stop.Token).ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            await idle.ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested) return;
            if (!grew) throw new ImapConnectionException(session.IsConnected ? "IDLE ended unexpectedly" : "connection lost while idling");

            // EXISTS said there is more: learn the new UIDs (and their flags) before idling again.
            using var fresh = await session.FetchFlagsAsync(UidSet.Range(map.HighestUid + 1, UidSet.Star), null, cancellationToken).ConfigureAwait(false);
            var added = fresh.Messages.Where(m => m.Uid > map.HighestUid).ToList();
            map.Append(added.Select(m => m.Uid!.Value));
            signals.TryWrite(new FolderChanged(folder, time.GetUtcNow(), Hints: new ChangeHints
            {
                NewUids = added.Select(m => m.Uid!.Value).ToHashSet(),
                Flags = added.ToDictionary(m => m.Uid!.Value, m => (m.Flags ?? MessageFlags.None).WithoutRecent()),
            }, Pushed: true));
        }
    }

    /// <summary>NOOP until <paramref name="done"/>; what the server reports arrives as events.</summary>
    private async Task ProbeAsync(IMailSession session, TimeSpan interval, CancellationToken done, CancellationToken cancellationToken)
    {
        try
        {
            while (!done.IsCancellationRequested)
            {
                // Not cancelled by done: a NOOP abandoned halfway would leave its answer on the wire.
                await session.NoopAsync(cancellationToken).ConfigureAwait(false);
                await Task.Delay(interval, time, done).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (done.IsCancellationRequested)
        {
            // The folder grew, or the watcher is stopping.
        }
    }

    /// <summary>Turns events into signals until the folder grows (true) or the stream ends (false).</summary>
    private async Task<bool> ForwardAsync(IMailSession session, SequenceMap map, ChannelWriter<ChangeSignal> signals, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var e in session.Events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var now = time.GetUtcNow();
                switch (e)
                {
                    case ExistsResponse exists when exists.Count > map.Count:
                        return true;
                    case ExpungeResponse expunge:
                        var gone = map.Expunge(expunge.Sequence);
                        signals.TryWrite(gone is { } expunged
                            ? new FolderChanged(folder, now, Hints: new ChangeHints { Expunged = new HashSet<uint> { expunged } }, Pushed: true)
                            : new FolderChanged(folder, now, Pushed: true));
                        break;
                    case VanishedResponse { Earlier: false } vanished:
                        map.Remove(vanished.Uids.Expand());
                        signals.TryWrite(new FolderChanged(folder, now, Hints: new ChangeHints { Expunged = vanished.Uids.Expand().ToHashSet() }, Pushed: true));
                        break;
                    case FetchResponse fetch:
                        using (fetch)
                        {
                            var changed = fetch.Data.Uid ?? map.UidAt(fetch.Sequence);
                            signals.TryWrite(changed is { } u && fetch.Data.Flags is { } flags
                                ? new FolderChanged(folder, now, fetch.Data.ModSeq, Hints: new ChangeHints { Flags = new Dictionary<uint, MessageFlags> { [u] = flags.WithoutRecent() } }, Pushed: true)
                                : new FolderChanged(folder, now, fetch.Data.ModSeq, Pushed: true));
                        }
                        break;
                    case UntaggedConditionResponse { Code: HighestModSeqCode h }:
                        signals.TryWrite(new FolderChanged(folder, now, h.HighestModSeq, Hints: new ChangeHints(), Pushed: true));
                        break;
                    case EventsDroppedResponse:
                        signals.TryWrite(new FolderChanged(folder, now));
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ImapException or ChannelClosedException)
        {
            // The event stream ends with the connection; IDLE's own result says why.
        }
        return false;
    }

    /// <summary>Message sequence numbers to UIDs for the watched folder, as EXPUNGE needs.</summary>
    private sealed class SequenceMap
    {
        private readonly List<uint> _uids = [];

        public int Count => _uids.Count;

        public uint HighestUid => _uids.Count == 0 ? 0 : _uids[^1];

        public void Reset(IEnumerable<uint> uids)
        {
            _uids.Clear();
            _uids.AddRange(uids.Order());
        }

        public void Append(IEnumerable<uint> uids) => _uids.AddRange(uids);

        public uint? UidAt(uint sequence) => sequence >= 1 && sequence <= _uids.Count ? _uids[(int)sequence - 1] : null;

        /// <summary>Removes the message at <paramref name="sequence"/>; null if the map does not know it.</summary>
        public uint? Expunge(uint sequence)
        {
            var uid = UidAt(sequence);
            if (uid is not null) _uids.RemoveAt((int)sequence - 1);
            return uid;
        }

        public void Remove(IEnumerable<uint> uids)
        {
            var gone = uids.ToHashSet();
            _uids.RemoveAll(gone.Contains);
        }
    }
}

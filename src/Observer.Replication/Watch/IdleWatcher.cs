using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Observer.Mail;

namespace Observer.Replication;

/// <summary>
/// IDLE on one folder (RFC 2177). Every event becomes a precise hint: arrivals lead to a fetch of the
/// new UIDs and flags, a flag change names its message, an expunge its UID (the session turns
/// sequence numbers into UIDs).
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
        await session.WatchFolderAsync(folder, cancellationToken).ConfigureAwait(false);
        // Whatever happened before this IDLE began is unknown.
        signals.TryWrite(new FolderChanged(folder, time.GetUtcNow()));

        while (!cancellationToken.IsCancellationRequested)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var idle = probeInterval is { } interval ? ProbeAsync(session, interval, stop.Token, cancellationToken) : session.IdleAsync(stop.Token, cancellationToken);
            var grew = await ForwardAsync(session, signals, stop.Token).ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            await idle.ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested) return;
            if (!grew) throw new ImapConnectionException(session.IsConnected ? "IDLE ended unexpectedly" : "connection lost while idling");

            // The folder has more: learn the new UIDs (and their flags) before idling again.
            var arrived = await session.FetchArrivalsAsync(cancellationToken).ConfigureAwait(false);
            signals.TryWrite(new FolderChanged(folder, time.GetUtcNow(), Hints: new ChangeHints
            {
                NewUids = arrived.Keys.ToHashSet(),
                Flags = arrived.ToDictionary(),
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
    private async Task<bool> ForwardAsync(IMailSession session, ChannelWriter<ChangeSignal> signals, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var e in session.Events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var now = time.GetUtcNow();
                switch (e)
                {
                    case MessagesArrived:
                        return true;
                    case MessagesExpunged { Uids.Count: > 0 } expunged:
                        signals.TryWrite(new FolderChanged(folder, now, Hints: new ChangeHints { Expunged = expunged.Uids }, Pushed: true));
                        break;
                    case MessagesExpunged:
                        signals.TryWrite(new FolderChanged(folder, now, Pushed: true));
                        break;
                    case MessageFlagsChanged { Uid: { } uid, Flags: { } flags } changed:
                        signals.TryWrite(new FolderChanged(folder, now, changed.ModSeq, Hints: new ChangeHints { Flags = new Dictionary<uint, MessageFlags> { [uid] = flags } }, Pushed: true));
                        break;
                    case MessageFlagsChanged changed:
                        signals.TryWrite(new FolderChanged(folder, now, changed.ModSeq, Pushed: true));
                        break;
                    case ModSeqChanged modSeq:
                        signals.TryWrite(new FolderChanged(folder, now, modSeq.HighestModSeq, Hints: new ChangeHints(), Pushed: true));
                        break;
                    case EventsLost:
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
}

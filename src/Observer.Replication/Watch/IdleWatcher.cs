using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Observer.Imap;

namespace Observer.Replication;

/// <summary>IDLE on one folder (RFC 2177); any untagged data about it means the folder changed.</summary>
internal sealed class IdleWatcher(IMailSessionFactory sessions, string folder, int slot, ILogger logger, TimeProvider time) : IWatcher
{
    public string Name => $"idle-{slot}";

    public string Folder => folder;

    public Task RunAsync(ChannelWriter<ChangeSignal> signals, CancellationToken cancellationToken) =>
        WatcherLoop.RunAsync($"{Name} ({folder})", ct => WatchAsync(signals, ct), logger, time, cancellationToken);

    private async Task WatchAsync(ChannelWriter<ChangeSignal> signals, CancellationToken cancellationToken)
    {
        await using var session = await sessions.ConnectAsync(ServerRole.Primary, Name, cancellationToken).ConfigureAwait(false);
        await session.SelectAsync(folder, readOnly: true, null, cancellationToken).ConfigureAwait(false);
        // Anything that happened before this IDLE began is unknown.
        signals.TryWrite(new FolderChanged(folder, time.GetUtcNow()));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var idle = session.IdleAsync(stop.Token, cancellationToken);
        var events = ForwardAsync(session, signals, stop.Token);
        await Task.WhenAny(idle, events).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await events.ConfigureAwait(false);
        await idle.ConfigureAwait(false);
        // IDLE ended without a cancellation: the connection broke and the loop reconnects.
        if (!cancellationToken.IsCancellationRequested) throw session.IsConnected
            ? new ImapConnectionException("IDLE ended unexpectedly")
            : new ImapConnectionException("connection lost while idling");
    }

    private async Task ForwardAsync(IMailSession session, ChannelWriter<ChangeSignal> signals, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var e in session.Events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var changed = e is ExistsResponse or ExpungeResponse or VanishedResponse or FetchResponse or EventsDroppedResponse
                    || e is UntaggedConditionResponse { Code: HighestModSeqCode };
                var modseq = e switch
                {
                    FetchResponse f => f.Data.ModSeq,
                    UntaggedConditionResponse { Code: HighestModSeqCode h } => h.HighestModSeq,
                    _ => null,
                };
                (e as IDisposable)?.Dispose();
                if (changed) signals.TryWrite(new FolderChanged(folder, time.GetUtcNow(), modseq));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ImapException or ChannelClosedException)
        {
            // The event stream ends with the connection; IDLE's own result says why.
        }
    }
}

using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Observer.Mail;

namespace Observer.Replication;

/// <summary>
/// One connection that hears about every mailbox through NOTIFY (RFC 5465): STATUS for message and
/// flag changes, LIST for created, renamed, deleted and (un)subscribed folders.
/// </summary>
internal sealed class NotifyWatcher(IMailSessionFactory sessions, TimeSpan keepAlive, PushHealth health, ReconnectOptions backoff, ILogger logger, TimeProvider time) : IWatcher
{
    public string Name => "notify";

    public Task RunAsync(ChannelWriter<ChangeSignal> signals, CancellationToken cancellationToken) =>
        WatcherLoop.RunAsync(Name, ct => WatchAsync(signals, ct), backoff, logger, time, cancellationToken);

    private async Task WatchAsync(ChannelWriter<ChangeSignal> signals, CancellationToken cancellationToken)
    {
        await using var session = await sessions.ConnectAsync(ServerRole.Primary, Name, cancellationToken).ConfigureAwait(false);
        try
        {
            await session.WatchAllAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Its LIST of every folder is where a corrupted list index was seen to crash the server's process.
            health.Lost();
            throw;
        }
        var found = health.Connected(cancellationToken);
        // Whatever happened while we were not listening is unknown. After a deaf session too: its pass reads the
        // folder lists on new connections, which finds folders created while long-lived lists were stale.
        signals.TryWrite(new ResyncAll("notify watcher connected", time.GetUtcNow()));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(found);
        var keepAliveTask = session.ListenAsync(keepAlive, stop.Token);
        try
        {
            await foreach (var e in session.Events.ReadAllAsync(found).ConfigureAwait(false))
            {
                var now = time.GetUtcNow();
                if (e is FolderStatusChanged heard) health.Heard(heard.Folder);
                ChangeSignal? signal = e switch
                {
                    FolderStatusChanged status => new FolderChanged(status.Folder, now, status.HighestModSeq, status.UidNext, Pushed: true),
                    FolderListChanged list => new TreeChanged(list.OldName, list.Name, now, list.IsSelectable),
                    EventsLost => new ResyncAll("notify events overflowed", now),
                    _ => null,
                };
                if (signal is not null) signals.TryWrite(signal);
            }
        }
        catch (OperationCanceledException) when (found.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // Found deaf: the watcher loop opens a new session.
        }
        finally
        {
            // At once, not after the keep-alive's NOOP in flight has run out its deadline: a session that is gone is judged
            // no more. Lost, unless it was found deaf or the service stops.
            health.Disconnected(lost: !found.IsCancellationRequested);
            await stop.CancelAsync().ConfigureAwait(false);
            await keepAliveTask.ConfigureAwait(false);
        }
    }
}

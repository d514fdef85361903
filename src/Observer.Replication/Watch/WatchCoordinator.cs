using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Observer.Replication;

/// <summary>
/// Chooses how to watch the primary and runs the watchers: NOTIFY when offered (one connection for
/// every folder), otherwise IDLE on INBOX and the most active folders within the connection budget,
/// with STATUS polling for the rest.
/// </summary>
internal sealed class WatchCoordinator(
    IMailSessionFactory sessions,
    ReplicationOptions options,
    ReconnectOptions backoff,
    FolderFilter filter,
    SessionFeatures primaryFeatures,
    ILoggerFactory loggers,
    TimeProvider time)
{
    private readonly ILogger _logger = loggers.CreateLogger("Observer.Watch");

    private PushHealth? _health;

    /// <summary>The mode in use, for `observer status`, from the moment it is chosen: it says so while NOTIFY is deaf.</summary>
    public string Mode => _health is { Deaf: true } ? $"{Described}; NOTIFY leaves out changes that polling finds, so polling carries them" : Described;

    private string Described => Resolve() switch
    {
        WatchMode.Notify => $"NOTIFY, with STATUS polling every {options.PollInterval.TotalSeconds:0} s as a backstop{ProbeNote}",
        WatchMode.Idle => $"IDLE on up to {IdleSlots} folders, STATUS polling every {options.PollInterval.TotalSeconds:0} s{ProbeNote}",
        _ => $"STATUS polling every {options.PollInterval.TotalSeconds:0} s{ProbeNote}",
    };

    public WatchMode Resolve()
    {
        var wanted = options.Watch;
        if (wanted == WatchMode.Auto) wanted = primaryFeatures.Notify ? WatchMode.Notify : primaryFeatures.Idle ? WatchMode.Idle : WatchMode.Poll;
        if (wanted == WatchMode.Notify && !primaryFeatures.Notify) wanted = WatchMode.Idle;
        if (wanted == WatchMode.Idle && !primaryFeatures.Idle) wanted = WatchMode.Poll;
        return wanted;
    }

    /// <summary>Folders of the low-latency mode: each has its own NOOP probe on top of the mode's watching.</summary>
    public IReadOnlyList<string> ProbedFolders => options.LowLatency.ProbedFolders.Where(filter.Includes).ToList();

    /// <summary>Connections the watchers hold on the primary.</summary>
    public int Connections => ProbedFolders.Count + Resolve() switch
    {
        WatchMode.Notify => 2,
        WatchMode.Idle => 1 + IdleSlots,
        _ => 1,
    };

    public async Task RunAsync(ChannelWriter<ChangeSignal> signals, CancellationToken cancellationToken)
    {
        var probes = ProbedFolders.Select((folder, i) =>
            new IdleWatcher(sessions, folder, i + 1, backoff, _logger, time, options.LowLatency.Interval).RunAsync(signals, cancellationToken)).ToList();
        try
        {
            await WatchAsync(signals, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await Task.WhenAll(probes).ConfigureAwait(false);
        }
    }

    private string ProbeNote => ProbedFolders.Count == 0 ? "" : $"; NOOP every {options.LowLatency.Interval.TotalMilliseconds:0} ms on {string.Join(", ", ProbedFolders)}";

    private async Task WatchAsync(ChannelWriter<ChangeSignal> signals, CancellationToken cancellationToken)
    {
        var mode = Resolve();
        switch (mode)
        {
            case WatchMode.Notify:
                Log.Watching(_logger, Described);
                // Dovecot 2.3 was seen to send no NOTIFY event for some CREATEs and parent RENAMEs, and at
                // times to stop reporting some mailboxes: one LIST-STATUS per interval catches what it misses.
                // A session found deaf is replaced: see PushHealth.
                var health = _health = new PushHealth(options.PollInterval, _logger, time);
                await Task.WhenAll(
                    new NotifyWatcher(sessions, KeepAlive, health, backoff, _logger, time).RunAsync(signals, cancellationToken),
                    new StatusPoller(sessions, options.PollInterval, filter, backoff, _logger, time) { Pushes = health }.RunAsync(signals, cancellationToken)).ConfigureAwait(false);
                break;
            case WatchMode.Idle:
                await RunIdlePoolAsync(signals, cancellationToken).ConfigureAwait(false);
                break;
            default:
                Log.Watching(_logger, Described);
                await new StatusPoller(sessions, options.PollInterval, filter, backoff, _logger, time).RunAsync(signals, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    private TimeSpan KeepAlive => TimeSpan.FromMinutes(2);

    /// <summary>The worker and the poller each hold a connection; IDLE gets the rest of the budget.</summary>
    public int IdleSlots => Math.Max(1, options.MaxConnections - 2 - ProbedFolders.Count);

    private async Task RunIdlePoolAsync(ChannelWriter<ChangeSignal> signals, CancellationToken cancellationToken)
    {
        var poller = new StatusPoller(sessions, options.PollInterval, filter, backoff, _logger, time);
        var watchers = new Dictionary<string, (CancellationTokenSource Stop, Task Task)>(StringComparer.Ordinal);
        var probed = ProbedFolders.ToHashSet(StringComparer.Ordinal);
        poller.Covered = () =>
        {
            lock (watchers) return watchers.Keys.Concat(probed).ToHashSet(StringComparer.Ordinal);
        };
        Log.Watching(_logger, Described);
        var polling = poller.RunAsync(signals, cancellationToken);
        var slot = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var wanted = poller.MostActive(IdleSlots + probed.Count).Where(f => !probed.Contains(f)).Take(IdleSlots).ToHashSet(StringComparer.Ordinal);
                lock (watchers)
                {
                    foreach (var stale in watchers.Keys.Where(k => !wanted.Contains(k)).ToList())
                    {
                        watchers[stale].Stop.Cancel();
                        watchers.Remove(stale);
                    }
                    foreach (var folder in wanted.Where(f => !watchers.ContainsKey(f)))
                    {
                        var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                        var watcher = new IdleWatcher(sessions, folder, ++slot, backoff, _logger, time);
                        watchers[folder] = (stop, watcher.RunAsync(signals, stop.Token));
                    }
                }
                // Until the poller's first pass there is nothing to rank; look again soon.
                var wait = wanted.Count == 0 ? TimeSpan.FromMilliseconds(200) : options.PollInterval;
                await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        finally
        {
            Task[] running;
            lock (watchers)
            {
                foreach (var w in watchers.Values) w.Stop.Cancel();
                running = watchers.Values.Select(w => w.Task).ToArray();
            }
            await Task.WhenAll(running.Append(polling)).ConfigureAwait(false);
        }
    }
}

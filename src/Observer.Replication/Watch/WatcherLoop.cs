using Microsoft.Extensions.Logging;
using Observer.Mail;

namespace Observer.Replication;

/// <summary>
/// Runs one watcher session after another, with a capped, jittered backoff between failures. A
/// failure is logged once; repeats of the same failure are logged at Debug, so an outage stays quiet.
/// </summary>
internal static class WatcherLoop
{
    private static readonly TimeSpan HealthySession = TimeSpan.FromSeconds(15);

    public static async Task RunAsync(string name, Func<CancellationToken, Task> session, ReconnectOptions backoff, ILogger logger, TimeProvider time, CancellationToken cancellationToken)
    {
        var delay = backoff.InitialDelay;
        string? lastError = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            var started = time.GetUtcNow();
            try
            {
                await session(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A watcher must never die: whatever went wrong, log it once and start over.
                var expected = ex is ImapException or IOException or OperationCanceledException or System.Net.Sockets.SocketException;
                var reason = expected ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
                if (reason != lastError) Log.WatcherFailed(logger, name, reason);
                else logger.LogDebug("watcher {Watcher} still failing: {Reason}", name, reason);
                if (!expected) logger.LogDebug(ex, "watcher {Watcher} failed unexpectedly", name);
                lastError = reason;
            }
            // A session that lasted a while was healthy: start the backoff over. Cut connections are common
            // (a NAT timeout, a server restart); doubling the delay across them left changes unwatched for minutes.
            if (time.GetUtcNow() - started > HealthySession) delay = backoff.InitialDelay;
            var jitter = TimeSpan.FromMilliseconds(Random.Shared.Next(0, (int)Math.Max(1, delay.TotalMilliseconds / 4)));
            try
            {
                await Task.Delay(delay + jitter, time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, backoff.MaxDelay.Ticks));
        }
    }
}

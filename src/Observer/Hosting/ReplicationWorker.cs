using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Observer.Configuration;
using Observer.Replication;
using Observer.State;

namespace Observer.Hosting;

/// <summary>
/// `observer run` as a hosted service: replicate every account until the host is told to stop. With one
/// account, an error no retry can fix (a refused login, a bad certificate) stops the service. With an
/// Accounts list, it stops only that account, which is tried again with a long backoff while the others
/// go on; only a broken state database, which every account shares, stops them all.
/// </summary>
public sealed class ReplicationWorker(AccountEngines accounts, IOptions<ObserverOptions> settings, SettingsReloader reloader, TimeProvider time,
    IHostApplicationLifetime lifetime, ILogger<ReplicationWorker> logger) : BackgroundService
{
    /// <summary>Set when replication stopped on an error no retry can fix.</summary>
    public string? FatalError { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (accounts.RunsSeveral) await RunAccountsAsync(stoppingToken);
            else
            {
                // systemctl reload sends SIGHUP, which would otherwise end the process.
                using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
                {
                    context.Cancel = true;
                    logger.LogWarning("SIGHUP: without an Accounts list there is nothing to reload; restart observer to apply changed settings");
                });
                await accounts.All[0].Engine.RunAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopped on request.
        }
        catch (Exception ex) when (ObserverErrors.IsUserFacing(ex))
        {
            FatalError = ex.Message;
            logger.LogCritical("replication stopped: {Reason}", ex.Message);
            lifetime.StopApplication();
        }
        catch (Exception ex)
        {
            // A bug, not a user's mistake: still one line (the host would print a stack trace), and a non-zero exit.
            FatalError = ex.Message;
            logger.LogCritical("replication stopped by an unexpected error: {Type}: {Reason}", ex.GetType().Name, ex.Message.ReplaceLineEndings(" "));
            lifetime.StopApplication();
        }
    }

    /// <summary>Every account of the list, each on its own, and the list kept up to date with the settings until the service stops.</summary>
    private async Task RunAccountsAsync(CancellationToken stopping)
    {
        using var broken = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        // A reload asked for while the accounts stop (up to the shutdown grace) must not end the process uncleanly.
        using var lateHangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context => context.Cancel = true);
        Exception? fatal = null;
        var scheduler = new AccountScheduler(accounts, SuperviseAsync, ex =>
        {
            // Only what every account shares (the state database) ends them all.
            Interlocked.CompareExchange(ref fatal, ex, null);
            broken.Cancel();
        }, settings.Value.Replication, settings.Value.Reconnect, time, logger, stopping);
        await scheduler.ApplyAsync(settings.Value.Units);
        if (scheduler.Count == 0) logger.LogWarning("no accounts to replicate yet; add them to the settings or the AccountsFile, and they start at once");
        try
        {
            await Task.WhenAll(scheduler.RunAsync(broken.Token), reloader.WatchAsync(settings.Value, scheduler.ApplyAsync, broken.Token));
        }
        finally
        {
            await scheduler.StopAllAsync();
        }
        if (fatal is not null) throw fatal;
    }

    /// <summary>
    /// Runs one account of several. Its own failures (a changed password, a revoked certificate, a bug met in its
    /// mail) are retried by the one reconnect pipeline, starting at Reconnect:MaxDelay: the admin can fix the
    /// account on the server without restarting the service, and the other accounts never wait for it.
    /// </summary>
    private async Task SuperviseAsync(AccountEngine account, CancellationToken stopping)
    {
        using var scope = account.BeginScope(logger);
        var backoff = new ReconnectOptions { InitialDelay = settings.Value.Reconnect.MaxDelay, MaxDelay = TimeSpan.FromTicks(settings.Value.Reconnect.MaxDelay.Ticks * 10) };
        var pipeline = ReconnectPolicy.Build(backoff, null, time,
            onRetry: (ex, delay) => logger.LogError("this account stopped: {Reason}; trying it again in {Seconds:0} s (the other accounts go on)",
                ex.Message.ReplaceLineEndings(" "), delay.TotalSeconds),
            alsoRetry: ex => ex is not (OperationCanceledException or StateException));
        await pipeline.ExecuteAsync(async token => await account.Engine.RunAsync(token), stopping);
    }
}

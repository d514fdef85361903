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
    IHostApplicationLifetime lifetime, ILogger<ReplicationWorker> logger, LeaseKeeper? leases = null) : BackgroundService
{
    /// <summary>Set when replication stopped on an error no retry can fix.</summary>
    public string? FatalError { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (leases is not null) await RunLeasedAccountsAsync(leases, stoppingToken);
            else if (accounts.RunsSeveral) await RunAccountsAsync(stoppingToken);
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
    /// On a shared state: only the accounts this worker holds a lease on, the set following each round of the leases
    /// (every <see cref="LeaseKeeper.RenewEvery"/>, or at once when another worker signals) and each reload of the settings.
    /// </summary>
    private async Task RunLeasedAccountsAsync(LeaseKeeper keeper, CancellationToken stopping)
    {
        using var broken = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        using var lateHangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context => context.Cancel = true);
        using var signals = new LeaseSignals(settings.Value.State.Location);
        using var applying = new SemaphoreSlim(1, 1);
        Exception? fatal = null;
        var scheduler = new AccountScheduler(accounts, SuperviseAsync, ex =>
        {
            Interlocked.CompareExchange(ref fatal, ex, null);
            broken.Cancel();
        }, settings.Value.Replication, settings.Value.Reconnect, time, logger, stopping) { Leased = true };
        var configured = settings.Value.Units;
        // Serialised: a round and a reload may both change the accounts run here.
        async Task ApplyAsync(IReadOnlySet<string> held)
        {
            await applying.WaitAsync(CancellationToken.None);
            try
            {
                await scheduler.ApplyAsync(configured.Where(u => held.Contains(u.Name)).ToList());
            }
            finally
            {
                applying.Release();
            }
        }
        // Account work blocks pool threads on the state's one connection; a pool that grows only slowly would starve the rest.
        ThreadPool.GetMinThreads(out var workerThreads, out var ioThreads);
        ThreadPool.SetMinThreads(Math.Max(workerThreads, 64), ioThreads);
        keeper.Join();
        logger.LogInformation("worker {Worker} joined the shared state {State}; it takes its share of {Count} accounts", keeper.Worker,
            settings.Value.State.Describe, configured.Select(u => u.Name).Distinct().Count());
        using var wake = new SemaphoreSlim(0);
        keeper.Lost = () => wake.Release();
        // Renewals go on until every account has stopped, on a token of their own: a stop lets work in flight finish (up to
        // the shutdown grace), and that work must stay fenced as this worker's, not expire under it. On a thread of their
        // own with a plain wait, not the thread pool's timers: many accounts starting at once block pool threads on the
        // state's lock, and a renewal that waited for a pool thread would let every lease of this worker lapse.
        using var renewing = new CancellationTokenSource();
        Task RenewalsAsync(CancellationToken token)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            new Thread(() =>
            {
                try
                {
                    while (!token.WaitHandle.WaitOne(keeper.RenewEvery)) keeper.Renew();
                    done.SetResult();
                }
                catch (Exception ex)
                {
                    done.SetException(ex);
                }
            }) { IsBackground = true, Name = "lease renewals" }.Start();
            return done.Task;
        }
        async Task RoundsAsync(CancellationToken token)
        {
            // One wait of each kind at a time: the LISTEN connection takes one wait, and a wake is not to be swallowed by a stale one.
            Task? signal = null, woken = null;
            while (!token.IsCancellationRequested)
            {
                var held = await keeper.RoundAsync(configured.Select(u => u.Name).Distinct(StringComparer.Ordinal).ToList(), _ => ApplyAsync(keeper.Held));
                if (keeper.Workers != scheduler.Workers) Share(keeper.Workers, scheduler);
                await ApplyAsync(held);
                // A signal from another worker, a lease lost, a reload, or LookEvery, whichever comes first; at most 5 rounds a second.
                signal ??= signals.WaitAsync(keeper.LookEvery, time, token);
                woken ??= wake.WaitAsync(token);
                await Task.WhenAny(signal, woken);
                if (signal.IsCompleted) signal = null;
                if (woken.IsCompleted) woken = null;
                await Task.Delay(TimeSpan.FromMilliseconds(200), time, token);
            }
        }
        // Without its renewals a worker would go on, fenced, writing nothing: a failure there ends the worker, for systemd to start again.
        async Task Vital(Func<CancellationToken, Task> loop, CancellationToken token)
        {
            try
            {
                await loop(token);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Interlocked.CompareExchange(ref fatal, ex, null);
                await broken.CancelAsync();
            }
        }
        var renewals = Vital(RenewalsAsync, renewing.Token);
        try
        {
            await Task.WhenAll(Vital(RoundsAsync, broken.Token), scheduler.RunAsync(broken.Token), reloader.WatchAsync(settings.Value, units =>
            {
                configured = units;
                wake.Release();
                return ApplyAsync(keeper.Held);
            }, broken.Token));
        }
        catch (OperationCanceledException) when (broken.IsCancellationRequested)
        {
        }
        finally
        {
            await scheduler.StopAllAsync();
            await renewing.CancelAsync();
            await renewals;
            keeper.Leave();
        }
        if (fatal is not null) throw fatal;
        stopping.ThrowIfCancellationRequested();
    }

    /// <summary>The servers' connection budget, the live accounts and the parallel polls are for all workers together: this one takes its share.</summary>
    private void Share(int workers, AccountScheduler scheduler)
    {
        scheduler.Workers = workers;
        var connections = accounts.ShareBudgets(workers);
        var r = settings.Value.Replication;
        logger.LogInformation("{Workers} workers share the servers: this one opens at most {Connections} connections to each, "
            + "runs up to {Live} accounts live and polls {Parallel} at a time", workers, connections, r.LiveAccountsWithinBudget / workers, Math.Max(1, r.ParallelAccounts / workers));
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

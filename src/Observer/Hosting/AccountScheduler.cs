using Microsoft.Extensions.Logging;
using Observer.Configuration;
using Observer.Replication;
using Observer.State;

namespace Observer.Hosting;

/// <summary>
/// Runs the accounts of a service of several within the servers' connection limits. Up to
/// Replication:LiveAccounts replicate live (push, with connections held); the others are polled: a one-shot
/// pass every Replication:PollInterval, Replication:ParallelAccounts at a time, connecting only for it, and
/// every Replication:QuietPollInterval once they have shown no change for ten poll intervals. A
/// polled account that had changes takes a free live slot, or the slot of the live account quiet longest, once
/// that one has been quiet for ten poll intervals (5 minutes by default). First copies of polled accounts take at
/// most all but one poll slot (with two slots or more), so a huge new account never holds up the polls of
/// accounts already copied. A reload adds, removes and restarts accounts.
/// </summary>
internal sealed class AccountScheduler(AccountEngines engines, Func<AccountEngine, CancellationToken, Task> runLive, Action<Exception> failed,
    ReplicationOptions options, ReconnectOptions reconnect, TimeProvider time, ILogger logger, CancellationToken stopping)
{
    /// <summary>A live account quiet this long gives its slot to a polled one that has mail coming in; a polled one is polled less often.</summary>
    private TimeSpan QuietBeforeDemotion => options.PollInterval * 10;

    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    /// <summary>One account and what it is doing: running live, being polled, or waiting for its next poll.</summary>
    private sealed class Account(AccountOptions settings, AccountEngine engine, int order)
    {
        public AccountOptions Settings { get; } = settings;
        public AccountEngine Engine { get; } = engine;

        /// <summary>Its place in the settings: the first ones start live.</summary>
        public int Order { get; set; } = order;
        public bool Live { get; set; }
        public Task? Work { get; set; }
        public CancellationTokenSource? Stop { get; set; }
        public DateTimeOffset NextPoll { get; set; }
        public DateTimeOffset LastChange { get; set; }

        /// <summary>When the scheduler took it on: an account is not called quiet before it has been watched for a while.</summary>
        public DateTimeOffset Added { get; init; }
        public TimeSpan Backoff { get; set; }

        /// <summary>When its last full pass began: between them, a poll only asks the primary whether anything changed.</summary>
        public DateTimeOffset LastFullPass { get; set; } = DateTimeOffset.MinValue;

        /// <summary>Polls that completed since the service started: the first catches up on what happened before, which is no sign of a busy account.</summary>
        public int Polls { get; set; }

        /// <summary>Whether its first copy is done (from the state at start, then from its passes): a poll before that may take long.</summary>
        public bool Copied { get; set; }
    }

    /// <summary>On a shared state, accounts come and go with this worker's leases, not only with the settings.</summary>
    public bool Leased { get; init; }

    private volatile int _workers = 1;

    /// <summary>Workers sharing the state: each runs its share of Replication:LiveAccounts live and of ParallelAccounts at a time.</summary>
    public int Workers
    {
        get => _workers;
        set => _workers = Math.Max(1, value);
    }

    private int LiveSlots => options.LiveAccountsWithinBudget / Workers;

    private int PollSlots => Math.Max(1, options.ParallelAccounts / Workers);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Account> _accounts = new(StringComparer.Ordinal);
    private bool _applied;

    public int Count
    {
        get { lock (_gate) return _accounts.Count; }
    }

    public async Task ApplyAsync(IReadOnlyList<AccountOptions> wanted)
    {
        var byName = wanted.ToDictionary(a => a.Id, StringComparer.Ordinal);
        List<Account> gone;
        List<string> changed;
        bool first;
        lock (_gate)
        {
            first = !_applied;
            _applied = true;
            gone = _accounts.Values.Where(a => !byName.TryGetValue(a.Engine.Id, out var w) || !a.Settings.SameAs(w)).ToList();
            changed = gone.Where(a => byName.ContainsKey(a.Engine.Id)).Select(a => a.Engine.Id).ToList();
            foreach (var account in gone) _accounts.Remove(account.Engine.Id);
        }
        // Stopped outside the lock and together: each may take the shutdown grace to finish its work in flight.
        await Task.WhenAll(gone.Select(StopAsync)).ConfigureAwait(false);
        var added = new Dictionary<string, (AccountEngine Engine, bool Copied)>(StringComparer.Ordinal);
        foreach (var account in wanted)
        {
            bool known;
            lock (_gate) known = _accounts.ContainsKey(account.Id);
            if (known) continue;
            var engine = engines.Build(account);
            added[account.Id] = (engine, await CopiedBeforeAsync(engine).ConfigureAwait(false));
        }
        foreach (var account in gone.Where(a => !changed.Contains(a.Engine.Id)))
            if (Leased) logger.LogInformation("account {Account} stopped on this worker: its lease went to another worker, or it left the settings", account.Engine.Label);
            else logger.LogInformation("account {Account} is no longer in the settings: stopped; its state is kept (observer forget {Name} removes it)", account.Engine.Label, account.Engine.Name);
        lock (_gate)
        {
            for (var i = 0; i < wanted.Count; i++)
            {
                if (_accounts.TryGetValue(wanted[i].Id, out var kept))
                {
                    kept.Order = i;
                    continue;
                }
                var (engine, copied) = added[wanted[i].Id];
                _accounts[wanted[i].Id] = new Account(wanted[i], engine, i) { NextPoll = time.GetUtcNow(), Added = time.GetUtcNow(), Copied = copied };
                if (!first)
                    logger.LogInformation(changed.Contains(wanted[i].Id) ? "account {Account}: its logins changed; started again" : "account {Account} added: replicating it", engine.Label);
            }
            // The first accounts in the settings start live; the rest are polled until they show they are busy.
            foreach (var account in _accounts.Values.Where(a => !a.Live && a.Work is null).OrderBy(a => a.Order).Take(FreeLiveSlots()).ToList()) StartLive(account);
        }
        if (first && wanted.Count > options.LiveAccountsWithinBudget)
            logger.LogInformation("{Accounts} accounts: {Live} replicate live, the others are polled every {Seconds:0} s{Quiet}, {Parallel} at a time{Budget}",
                wanted.Count, options.LiveAccountsWithinBudget, options.PollInterval.TotalSeconds,
                options.EffectiveQuietPollInterval > options.PollInterval ? $" ({options.EffectiveQuietPollInterval.TotalSeconds:0} s once quiet)" : "", options.ParallelAccounts,
                options.LiveAccountsWithinBudget < options.LiveAccounts ? $" (Replication:ConnectionBudget {options.ConnectionBudget} leaves room for {options.LiveAccountsWithinBudget} of the {options.LiveAccounts} LiveAccounts)" : "");
    }

    /// <summary>
    /// Whether an account's first copy is behind it, from the state. A state that cannot answer ends the service
    /// as any state failure does (the account is taken as not copied meanwhile); it never leaves a reload half done.
    /// </summary>
    private async Task<bool> CopiedBeforeAsync(AccountEngine engine)
    {
        using var scope = engine.BeginScope(logger);
        try
        {
            return await engine.Engine.CopiedBeforeAsync().ConfigureAwait(false);
        }
        catch (StateException ex)
        {
            failed(ex);
            return false;
        }
        catch (StateUnavailableException)
        {
            // A shared state out of reach for a moment: the account's first pass finds out.
            return false;
        }
    }

    /// <summary>Polls the accounts not live, and hands live slots to the busy ones, until the service stops.</summary>
    public async Task RunAsync(CancellationToken until)
    {
        while (!until.IsCancellationRequested)
        {
            lock (_gate) Schedule(time.GetUtcNow());
            try
            {
                await Task.Delay(Tick, time, until).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async Task StopAllAsync()
    {
        List<Account> all;
        lock (_gate)
        {
            all = [.. _accounts.Values];
            _accounts.Clear();
        }
        await Task.WhenAll(all.Select(StopAsync)).ConfigureAwait(false);
    }

    private int FreeLiveSlots() => Math.Max(0, LiveSlots - _accounts.Values.Count(a => a.Live));

    private void Schedule(DateTimeOffset now)
    {
        // Busy polled accounts first: a free slot, or one given up by a live account quiet for long enough.
        foreach (var busy in _accounts.Values.Where(a => !a.Live && a.Work is null && now - a.LastChange < QuietBeforeDemotion)
                     .OrderByDescending(a => a.LastChange).ToList())
        {
            if (FreeLiveSlots() == 0 && !Demote(now)) break;
            if (FreeLiveSlots() > 0) StartLive(busy);
        }
        var polling = _accounts.Values.Count(a => !a.Live && a.Work is not null);
        var copying = _accounts.Values.Count(a => !a.Live && a.Work is not null && !a.Copied);
        // One slot stays free of first copies, for the polls of accounts already copied (when there are any, and more than one slot).
        var mostCopying = _accounts.Values.Any(a => !a.Live && a.Copied) ? Math.Max(1, PollSlots - 1) : PollSlots;
        foreach (var due in _accounts.Values.Where(a => !a.Live && a.Work is null && a.NextPoll <= now).OrderBy(a => a.NextPoll).ToList())
        {
            if (polling >= PollSlots) break;
            if (!due.Copied && copying >= mostCopying) continue;
            StartPoll(due);
            polling++;
            if (!due.Copied) copying++;
        }
    }

    /// <summary>Stops the live account quiet the longest, if it has been quiet long enough; it is polled from then on.</summary>
    private bool Demote(DateTimeOffset now)
    {
        // One at a time: until the one stopping has let go of its slot, nobody else is stopped for it.
        if (_accounts.Values.Any(a => a.Live && a.Stop is { IsCancellationRequested: true })) return false;
        var quietest = _accounts.Values.Where(a => a.Live && a.Stop is not null).MinBy(a => Max(a.LastChange, a.Engine.Engine.LastActivity));
        if (quietest is null || now - Max(quietest.LastChange, quietest.Engine.Engine.LastActivity) < QuietBeforeDemotion) return false;
        logger.LogInformation("account {Account} has been quiet for {Minutes:0} min: polled from now on, to make room for a busier one",
            quietest.Engine.Label, (now - quietest.Engine.Engine.LastActivity).TotalMinutes);
        _ = quietest.Stop!.CancelAsync();
        // Its slot frees when its work has stopped (Live is cleared then), not before: never more live than allowed.
        return false;
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private void StartLive(Account account)
    {
        account.Live = true;
        Start(account, async token => await runLive(account.Engine, token).ConfigureAwait(false), () =>
        {
            account.Live = false;
            account.NextPoll = time.GetUtcNow() + options.PollInterval;
        });
    }

    private void StartPoll(Account account) => Start(account, async token =>
    {
        using var scope = account.Engine.BeginScope(logger);
        try
        {
            var started = time.GetUtcNow();
            // An account demoted from live may have finished its first copy there.
            if (!account.Copied && await account.Engine.Engine.CopiedBeforeAsync().ConfigureAwait(false))
                lock (_gate) account.Copied = true;
            // One login and one command on the primary, most of the time; the whole pass only when it may be owed.
            var due = started - account.LastFullPass >= options.ReconcileInterval || await account.Engine.Engine.PrimaryMayHaveChangedAsync(token).ConfigureAwait(false);
            var pass = due ? await account.Engine.Engine.SyncOnceAsync(full: false, token, polled: true).ConfigureAwait(false) : null;
            lock (_gate)
            {
                if (pass is not null) account.LastFullPass = started;
                // A pass that ran to its end copied what it could; a folder in trouble is retried as in any pass.
                if (pass is not null) account.Copied = true;
                if (pass is { ChangedAnything: true } && account.Polls > 0) account.LastChange = time.GetUtcNow();
                account.Polls++;
                account.Backoff = TimeSpan.Zero;
            }
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or StateException))
        {
            lock (_gate) account.Backoff = TimeSpan.FromTicks(Math.Min(reconnect.MaxDelay.Ticks * 10, Math.Max(reconnect.MaxDelay.Ticks, account.Backoff.Ticks * 2)));
            // Also a failure before the pass (the look for changes): status judges a polled account by its last poll.
            try
            {
                account.Engine.Engine.RecordPoll(ex.Message.ReplaceLineEndings(" "));
            }
            catch (StateException)
            {
                // The state's own trouble reaches the service through the next pass.
            }
            logger.LogError("this account's poll failed: {Reason}; polled again in {Seconds:0} s (the other accounts go on)", ex.Message.ReplaceLineEndings(" "), account.Backoff.TotalSeconds);
        }
    }, () =>
    {
        var now = time.GetUtcNow();
        var interval = now - Max(account.LastChange, account.Added) >= QuietBeforeDemotion ? options.EffectiveQuietPollInterval : options.PollInterval;
        account.NextPoll = now + (account.Backoff > interval ? account.Backoff : interval);
    });

    /// <summary>Runs one piece of an account's work; <paramref name="done"/> runs under the lock when it ends, however it ends.</summary>
    private void Start(Account account, Func<CancellationToken, Task> work, Action done)
    {
        var stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        account.Stop = stop;
        account.Work = Task.Run(async () =>
        {
            try
            {
                await work(stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Stopped on request.
            }
            catch (Exception ex)
            {
                failed(ex);
            }
            finally
            {
                lock (_gate)
                {
                    done();
                    account.Work = null;
                    account.Stop = null;
                    // The next due poll starts now, not at the next tick: a poll takes a fraction of a second.
                    if (!stopping.IsCancellationRequested && _accounts.ContainsKey(account.Engine.Id)) Schedule(time.GetUtcNow());
                }
                stop.Dispose();
            }
        }, CancellationToken.None);
    }

    private async Task StopAsync(Account account)
    {
        Task? work;
        lock (_gate)
        {
            work = account.Work;
            // Cancelled without running its callbacks here: they may end the work, whose ending takes the lock.
            _ = account.Stop?.CancelAsync();
        }
        if (work is not null) await work.ConfigureAwait(false);
    }
}

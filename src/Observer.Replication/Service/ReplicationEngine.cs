using Microsoft.Extensions.Logging;
using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// Runs replication: connect (with backoff), start watching, reconcile, then replay changes as they
/// are seen. A lost connection means reconnect and reconcile again; one folder's failure never stops
/// the others. It knows IMAP only through <see cref="IMailSession"/>.
/// </summary>
public sealed partial class ReplicationEngine
{
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(5);

    private readonly IMailSessionFactory _sessions;
    private readonly StateStore _store;
    private readonly ReplicationOptions _options;
    private readonly ReconnectOptions _reconnect;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string _primaryEndpoint;
    private readonly string _replicaEndpoint;
    private Lazy<ReplicaRecord> _targetRecord;
    private readonly OutageReporter _outages;
    private Lazy<TroubleTracker> _troubleTracker;
    private readonly DateTimeOffset _started;
    private readonly Rechecks _rechecks;
    private readonly Notices _notices = new();
    private readonly PhantomFolders _phantoms = new();
    private readonly ListedValidities _validities = new();
    private readonly InboxMail _inboxMail = new();
    private FolderDeletionDelay _folderDeletions = FolderDeletionDelay.None;
    private WatchCoordinator? _watching;

    /// <summary>For `observer status`: read when saved, so that it says at once when NOTIFY turns deaf or hears again.</summary>
    private string WatchModeNow => _watching?.Mode ?? "not started";
    private string? _lastError;
    private DateTimeOffset _lastHeartbeat;

    public ReplicationEngine(IMailSessionFactory sessions, StateStore store, ReplicationOptions options, ReconnectOptions reconnect,
        string primaryEndpoint, string replicaEndpoint, ILoggerFactory loggers, TimeProvider? time = null)
    {
        _sessions = sessions;
        _store = store;
        _options = options;
        _reconnect = reconnect;
        _loggers = loggers;
        _logger = loggers.CreateLogger("Observer.Replication");
        _time = time ?? TimeProvider.System;
        _started = _time.GetUtcNow();
        (_primaryEndpoint, _replicaEndpoint) = (primaryEndpoint, replicaEndpoint);
        _outages = new OutageReporter(_logger, _time);
        (_targetRecord, _troubleTracker) = LookUpTarget();
        _rechecks = new Rechecks(_logger);
    }

    private ReplicaRecord Target => _targetRecord.Value;

    /// <summary>
    /// The replica's row, looked up at first use, not at construction: the state's integrity check runs while the
    /// servers are logged in to. Looked up again at every attempt, so an account whose state was forgotten while it
    /// waited out a backoff starts afresh rather than writing under a row that is gone.
    /// </summary>
    private (Lazy<ReplicaRecord>, Lazy<TroubleTracker>) LookUpTarget()
    {
        var target = new Lazy<ReplicaRecord>(() =>
        {
            var (record, changed) = _store.Replicas.Ensure(Replica.Name, _primaryEndpoint, _replicaEndpoint, Account, Replica.Mode, (int)Replica.Delay.TotalSeconds);
            if (changed)
                _logger.LogWarning("the configured servers differ from those this state database was built for; every folder will be re-checked");
            return record;
        }, LazyThreadSafetyMode.PublicationOnly);
        // Not kept when it fails (a busy database): the next attempt looks again.
        return (target, new Lazy<TroubleTracker>(() => new TroubleTracker(_store, target.Value.Id, _options, _time, _logger), LazyThreadSafetyMode.PublicationOnly));
    }

    private void LookUpTargetAgain()
    {
        (_targetRecord, _troubleTracker) = LookUpTarget();
        _rescue = null;
        _delayedDeletions = null;
    }

    /// <summary>Which replica of the account this engine writes to, and its policy; the settings' single Replica unless a Replicas list names it.</summary>
    public ReplicaTarget Replica
    {
        get => _replica ?? new ReplicaTarget(_options.ReplicaName);
        init => _replica = value;
    }

    private readonly ReplicaTarget? _replica;

    /// <summary>A delayed replica's folder deletions, whose clocks the state keeps (see <see cref="GoneClocks"/>); for the current row of the replica.</summary>
    private FolderDeletionDelay? _delayedDeletions;

    /// <summary>How a folder gone from the primary waits: a delayed replica's delay, kept across restarts; else a short delay while live, none in a one-shot pass.</summary>
    private FolderDeletionDelay FolderDeletions => Replica.Delays
        ? _delayedDeletions ??= new FolderDeletionDelay(Replica.WaitBeforeDeleting(_options.FolderDeleteDelay), _time, new GoneClocks(_store, Target.Id))
        : _folderDeletions;

    private long _lastActivityTicks;

    /// <summary>When a watcher last reported a change while live (the start, before any): how busy the account is.</summary>
    public DateTimeOffset LastActivity => new(Math.Max(Volatile.Read(ref _lastActivityTicks), _started.UtcTicks), TimeSpan.Zero);

    /// <summary>The account this engine replicates, in a service of several ("" for the single account of the settings).</summary>
    public string Account { get; init; } = "";

    private TroubleTracker Troubles => _troubleTracker.Value;

    /// <summary>How long a stop waits for the work in flight before it cancels it.</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>One reconciliation pass (`observer sync`), retried a few times on connection failures.</summary>
    /// <param name="polled">A poll of one account of many: a pass that found nothing logs only at Debug, and folders in
    /// trouble wait out their backoff rather than being tried at every poll.</param>
    public async Task<PassResult> SyncOnceAsync(bool full, CancellationToken cancellationToken, bool polled = false)
    {
        var pipeline = ReconnectPolicy.Build(_reconnect, _reconnect.SyncAttempts, _time, LogRetry);
        try
        {
            var pass = await pipeline.ExecuteAsync(async token =>
            {
                LookUpTargetAgain();
                await using var pair = await ConnectBesideStateCheckAsync(token, listEarly: true).ConfigureAwait(false);
                await ReconcileFailoverAsync(pair, token).ConfigureAwait(false);
                return await Reconciler(pair, oneShot: true, polled: polled).RunAsync(full, force: false, token).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
            if (polled) RecordPoll(null);
            return pass;
        }
        catch (Exception ex) when (polled && ex is not OperationCanceledException and not StateException)
        {
            RecordPoll(ex.Message);
            throw;
        }
    }

    /// <summary>What `observer status` judges a polled account by, having no heartbeat of its own: how its last poll ended.</summary>
    public void RecordPoll(string? error) =>
        _store.Service.Save(Target.Id, new ServiceRecord
        {
            StartedAt = _started, HeartbeatAt = _time.GetUtcNow(), PrimaryState = StoppedState, ReplicaState = StoppedState, WatchMode = PolledMode, LastError = error,
        });

    /// <summary>How a polled account's record says it is watched: by the service's polls, one pass at a time.</summary>
    public const string PolledMode = "poll";

    private const string StoppedState = "stopped";

    /// <summary>`observer verify [--repair] [--force]`: compares both servers; with repair, fixes the replica and compares again.</summary>
    public async Task<(VerifyReport Before, VerifyReport? After)> VerifyAsync(bool repair, bool force, CancellationToken cancellationToken)
    {
        var pipeline = ReconnectPolicy.Build(_reconnect, _reconnect.SyncAttempts, _time, LogRetry);
        return await pipeline.ExecuteAsync(async token =>
        {
            await using var pair = await ConnectBesideStateCheckAsync(token).ConfigureAwait(false);
            // A repair writes to the replica: what only it holds since a failover is copied back first, and the comparison sees that.
            if (repair) await ReconcileFailoverAsync(pair, token).ConfigureAwait(false);
            var verifier = new Verifier(Context(pair), Filter(pair));
            var before = await verifier.CompareAsync(token).ConfigureAwait(false);
            if (!repair) return (BesideService ? await RecheckAsync(verifier, before, token).ConfigureAwait(false) : before, (VerifyReport?)null);
            if (before.Identical) return (before, (VerifyReport?)null);
            await verifier.RepairAsync(before, Reconciler(pair, oneShot: true), force, token).ConfigureAwait(false);
            return (before, await verifier.CompareAsync(token).ConfigureAwait(false));
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>`observer sync --dry-run`: compares both servers as verify does, and says what a sync would write; writes nothing.</summary>
    public async Task<DryRunPlan> PlanAsync(bool repair, bool force, CancellationToken cancellationToken)
    {
        var (report, _) = await VerifyAsync(repair: false, force: false, cancellationToken).ConfigureAwait(false);
        var replicated = _store.Folders.All(Target.Id).Select(f => f.ReplicaName).ToHashSet(StringComparer.Ordinal);
        return DryRunPlan.From(report, Replica, _options, repair, force, replicated);
    }

    /// <summary>How long a plain verify waits before each look again at what differed: a running service's changes land within seconds.</summary>
    private static readonly TimeSpan[] Rechecks = [TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10)];

    /// <summary>
    /// Plain verify runs beside `observer run`: a difference is reported only if it is still there, the same, at each of
    /// a few later looks at its folder. One that came and went was a change in flight, not damage.
    /// </summary>
    /// <summary>
    /// Set for a command that compares while another observer holds the state (a running service, a sync): changes may
    /// be on their way to the replica, so a plain verify looks again before it calls a difference damage.
    /// </summary>
    public bool BesideService { get; set; }

    private async Task<VerifyReport> RecheckAsync(Verifier verifier, VerifyReport report, CancellationToken cancellationToken)
    {
        foreach (var wait in Rechecks)
        {
            if (report.Identical) return report;
            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
            var differing = report.Folders.Where(f => !f.Identical).Select(f => f.Folder).ToHashSet(StringComparer.Ordinal);
            var again = await verifier.CompareAsync(cancellationToken, differing).ConfigureAwait(false);
            var reread = again.Folders.ToDictionary(f => f.Folder, StringComparer.Ordinal);
            var settled = new VerifyReport();
            foreach (var folder in report.Folders)
            {
                // A folder identical at the first look stays as found; one that differed is what the new look still finds,
                // and one the primary has deleted since was a change in flight.
                if (!differing.Contains(folder.Folder)) settled.Folders.Add(folder);
                else if (reread.TryGetValue(folder.Folder, out var now))
                {
                    now.KeepOnlyWhatPersists(folder);
                    settled.Folders.Add(now);
                }
            }
            settled.ReplicaOnlyFolders.AddRange(again.ReplicaOnlyFolders.Where(f => report.ReplicaOnlyFolders.Any(r => r.Folder == f.Folder)));
            settled.KeptFolders.AddRange(again.KeptFolders);
            report = settled;
        }
        return report;
    }

    /// <summary>`observer restore --from REPLICA`: copies back to the primary what this replica holds and the primary lost (see <see cref="Restorer"/>).</summary>
    public async Task<RestoreReport> RestoreAsync(string? folder, DateTimeOffset? since, CancellationToken cancellationToken)
    {
        var pipeline = ReconnectPolicy.Build(_reconnect, _reconnect.SyncAttempts, _time, LogRetry);
        return await pipeline.ExecuteAsync(async token =>
        {
            await using var pair = await ConnectBesideStateCheckAsync(token).ConfigureAwait(false);
            return await new Restorer(Context(pair), Filter(pair)).RunAsync(folder, since, token).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Logs in to both servers while the state's integrity check finishes. A damaged state is reported as
    /// soon as it is found, even while a server is down, rather than retried as an outage.
    /// </summary>
    /// <param name="listEarly">Reads both folder lists as soon as the logins are done, beside the check (<see cref="EarlyListing"/>).</param>
    private async Task<SessionPair> ConnectBesideStateCheckAsync(CancellationToken cancellationToken, bool listEarly = false)
    {
        var connecting = SessionPair.ConnectAsync(_sessions, _outages, cancellationToken);
        var listing = listEarly ? EarlyListing.ReadAsync(connecting, cancellationToken) : Task.FromResult<EarlyListing?>(null);
        try
        {
            await _store.Opened.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Damaged, or a shared state out of reach: either way these connections are not used.
            _ = LogOutWhenConnectedAsync(connecting, listing);
            throw;
        }
        var pair = await connecting.ConfigureAwait(false);
        try
        {
            pair.EarlyListing = await listing.ConfigureAwait(false);
            return pair;
        }
        catch
        {
            await pair.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task LogOutWhenConnectedAsync(Task<SessionPair> connecting, Task listing)
    {
        // Not while a list is still being read on its sessions; the state's failure is the one reported.
        await listing.SettledAsync().ConfigureAwait(false);
        try
        {
            await (await connecting.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // It never came up: beside the state's failure, why does not matter.
        }
    }

    /// <summary>Replicates live (`observer run`) until <paramref name="stopping"/>; then finishes the work in flight and returns.</summary>
    /// <remarks>
    /// Connecting, the first pass and the live phase are one attempt of the one reconnect pipeline, so a
    /// connection that breaks soon after it was made backs off (and trips the circuit breaker) like one
    /// that cannot be made. Only after a live phase that ran well for a while does a failure start a
    /// fresh series of attempts, whose first is at once: that keeps the lag of a rare outage short.
    /// </remarks>
    public async Task RunAsync(CancellationToken stopping)
    {
        using var hardStop = new CancellationTokenSource();
        await using var graceful = stopping.Register(() => hardStop.CancelAfter(ShutdownGrace));
        var work = hardStop.Token;
        _folderDeletions = new FolderDeletionDelay(_options.FolderDeleteDelay, _time);
        _live = true;
        using var watchStop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        string? stoppedBy = null;
        var queue = new SignalQueue(10_000, signal =>
        {
            // The mark only dates the lag; a shared state out of reach for a moment must not stop the watching.
            if (signal is FolderChanged changed)
                try
                {
                    _store.Folders.MarkDirty(Target.Id, changed.Folder, changed.SeenAt);
                }
                catch (StateUnavailableException)
                {
                }
            _inboxMail.Note(signal);
        });
        Task? watching = null;
        var heartbeat = new ServiceHeartbeat(_time, HeartbeatInterval, () => Heartbeat(force: true), _logger);
        var reconnect = ReconnectPolicy.Build(_reconnect, null, _time, onRetry: NoteFailure,
            onBreak: pause => _logger.LogInformation("repeated failures; pausing reconnect attempts for {Seconds:0} s", pause.TotalSeconds),
            alsoRetry: ex => !IsFatal(ex) && ex is not OperationCanceledException,
            notForBreaker: ex => ex is LiveFailure);
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                try
                {
                    await reconnect.ExecuteAsync(async token =>
                    {
                        _brokenSide = null;
                        LookUpTargetAgain();
                        // A failure to connect is reported by the outage tracker itself, with the side that refused.
                        await using var pair = await ConnectBesideStateCheckAsync(token).ConfigureAwait(false);
                        try
                        {
                            LogConnected(pair);
                            // Watch before the first pass, so nothing that happens during it is missed.
                            if (watching is { IsCompleted: true } ended && !stopping.IsCancellationRequested)
                            {
                                _logger.LogError("watching the primary stopped ({Reason}); starting it again", ended.Exception?.GetBaseException().Message ?? "ended");
                                watching = null;
                            }
                            watching ??= StartWatching(pair, queue, watchStop.Token);
                            Heartbeat(force: true);
                            await ReconcileFailoverAsync(pair, work).ConfigureAwait(false);
                            await Reconciler(pair).RunAsync(full: false, force: false, work).ConfigureAwait(false);
                        }
                        catch (Exception) when (!stopping.IsCancellationRequested)
                        {
                            _brokenSide = pair.Broken ?? ServerRole.Primary;
                            throw;
                        }
                        var liveSince = _time.GetUtcNow();
                        try
                        {
                            await LiveAsync(pair, queue, stopping, work).ConfigureAwait(false);
                        }
                        catch (Exception ex) when (!stopping.IsCancellationRequested && !IsFatal(ex) && _time.GetUtcNow() - liveSince >= HealthyRun)
                        {
                            _brokenSide = pair.Broken ?? ServerRole.Primary;
                            NoteFailure(ex, TimeSpan.Zero);
                        }
                        catch (Exception ex) when (!stopping.IsCancellationRequested && !IsFatal(ex))
                        {
                            // Connecting and the first pass worked: back off, but do not count it against the servers' reachability.
                            _brokenSide = pair.Broken ?? ServerRole.Primary;
                            throw new LiveFailure(ex);
                        }
                    }, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (IsFatal(ex))
        {
            // Kept for `observer status`, which shows why the service (or this account of it) stopped.
            stoppedBy = ex.Message;
            throw;
        }
        finally
        {
            await watchStop.CancelAsync().ConfigureAwait(false);
            if (watching is not null) await watching.ConfigureAwait(false);
            heartbeat.Dispose();
            // An account of many may be polled by one-shot passes after its live run: those pass as `sync` does.
            _live = false;
            _folderDeletions = FolderDeletionDelay.None;
            try
            {
                _store.Service.Save(Target.Id, new ServiceRecord { StartedAt = _started, HeartbeatAt = _time.GetUtcNow(), PrimaryState = "stopped", ReplicaState = "stopped", WatchMode = WatchModeNow, LastError = stoppedBy });
            }
            catch (StateUnavailableException ex)
            {
                // Never in place of what ended the run: status sees the stale heartbeat instead.
                _logger.LogWarning("cannot record that this account stopped: {Reason}", ex.Message);
            }
        }
    }

    /// <summary>How long a live phase must have run well for its failure to count as a new outage rather than a relapse.</summary>
    private static readonly TimeSpan HealthyRun = TimeSpan.FromMinutes(1);

    private ServerRole? _brokenSide;

    /// <summary>Set by `run`: latency matters more than finishing every folder deletion in one go.</summary>
    private bool _live;

    /// <summary>A live phase that failed soon after a good start: retried with backoff, but no sign that the servers are unreachable.</summary>
    private sealed class LiveFailure(Exception inner) : Exception(inner.Message, inner);

    /// <summary>One place that reports a failed attempt of `run`: the outage, the heartbeat, and a bug's stack trace once.</summary>
    private void NoteFailure(Exception ex, TimeSpan retryIn)
    {
        if (ex is LiveFailure { InnerException: { } inner }) ex = inner;
        _lastError = ex.Message;
        ReplicationMetrics.Failed(Account, Replica.Name, ReconnectPolicy.IsTransient(ex) ? ex is StateUnavailableException ? "state" : "connection" : "other");
        // The shared state out of reach is neither server's outage.
        if (ex is StateUnavailableException) _logger.LogWarning("{Reason}; trying again in {Seconds:0.0} s", ex.Message, retryIn.TotalSeconds);
        // The fence at work (this worker was paused or cut off past its lease), not a bug: the next lease round stops the account here.
        else if (ex is LeaseLostException) _logger.LogWarning("{Reason}", ex.Message);
        else if (ReconnectPolicy.IsTransient(ex))
        {
            if (_brokenSide is { } side) _outages.Down(side, ex.Message);
        }
        else if (ObserverFacing(ex)) _logger.LogError("replication interrupted: {Reason}; starting over in {Seconds:0.0} s", ex.Message, retryIn.TotalSeconds);
        else _logger.LogError(ex, "replication interrupted by an unexpected error; starting over in {Seconds:0.0} s", retryIn.TotalSeconds);
        _brokenSide = null;
        Heartbeat(force: true);
    }

    private async Task LiveAsync(SessionPair pair, SignalQueue queue, CancellationToken stopping, CancellationToken work)
    {
        var context = Context(pair);
        var reconciler = new Reconciler(context, Filter(pair), Troubles, OpenWorkerAsync, ParallelFolders) { CheckListings = true, InboxFirst = true, NewMail = _inboxMail };
        var nextPass = _time.GetUtcNow() + _options.ReconcileInterval;
        while (!stopping.IsCancellationRequested)
        {
            Heartbeat(force: false);
            // A connection that broke while idle must not pass for connected until the next command, maybe a ReconcileInterval away.
            if (pair.Broken is { } lost) throw new ImapConnectionException($"the connection to the {lost.ToString().ToLowerInvariant()} was lost");
            // A folder found gone is dealt with at once, not at the next signal.
            if (!reconciler.FoldersVanished) await WaitAsync(queue, nextPass, stopping).ConfigureAwait(false);
            var batch = SignalBatch.Drain(queue.Reader);
            if (batch.Folders.Count > 0) Volatile.Write(ref _lastActivityTicks, _time.GetUtcNow().UtcTicks);
            var filter = Filter(pair);
            foreach (var excluded in batch.Folders.Keys.Where(f => !filter.Includes(f)).ToList()) batch.Folders.Remove(excluded);
            foreach (var (folder, seen) in batch.Folders) _store.Folders.MarkDirty(Target.Id, folder, seen.SeenAt);
            _rechecks.AddDueTo(batch, _time.GetUtcNow());
            var approvedFolderDeletions = AddApprovals(batch);

            if (batch.ResyncReason is not null || queue.TakeOverflow() || _time.GetUtcNow() >= nextPass)
            {
                await reconciler.RunAsync(full: false, force: false, work).ConfigureAwait(false);
                _rechecks.Clear();
                nextPass = _time.GetUtcNow() + _options.ReconcileInterval;
                continue;
            }

            var known = _store.Folders.All(Target.Id).ToDictionary(f => f.PrimaryName, StringComparer.Ordinal);
            var deletionDue = FolderDeletions.NextDue() <= _time.GetUtcNow() || approvedFolderDeletions;
            var vanished = reconciler.FoldersVanished;
            reconciler.FoldersVanished = false;
            if (batch.TreeChanged || deletionDue || vanished || batch.Folders.Keys.Any(f => !known.ContainsKey(f)))
            {
                // New mail first: a tree sync may take seconds (Courier sleeps 2 s in each RENAME and DELETE).
                if (known.Values.FirstOrDefault(f => FolderNameMapper.IsInbox(f.PrimaryName) && batch.Folders.ContainsKey(f.PrimaryName)) is { } inbox)
                {
                    await SyncLiveAsync(reconciler, inbox, batch.Folders[inbox.PrimaryName], work).ConfigureAwait(false);
                    batch.Folders.Remove(inbox.PrimaryName);
                }
                var doubt = new ListingDoubt(batch.Appeared, CheckBoth: vanished);
                var tree = await reconciler.TreeSync().SyncAsync(batch.Renames, doubt, force: false, work).ConfigureAwait(false);
                known = tree.Folders.ToDictionary(f => f.PrimaryName, StringComparer.Ordinal);
                // New folders have no checkpoint yet, and a renamed one may have changed as it moved: sync them now.
                foreach (var fresh in tree.Folders.Where(f => f.PrimaryUidValidity is null || tree.RenamedTo.Contains(f.PrimaryName)))
                    batch.Folders.TryAdd(fresh.PrimaryName, FolderExpectation.Now(_time.GetUtcNow()));
                if (batch.AddUnreported(tree.Folders, tree.PrimaryStatus, _time.GetUtcNow()) is { Count: > 0 } unreported)
                    _logger.LogDebug("the primary's folder list shows changes no watcher reported, in {Folders}; syncing them now", string.Join(", ", unreported));
            }

            var dirty = batch.Folders.Keys.Where(known.ContainsKey).Select(f => known[f]).ToList();
            if (dirty.Count > 1)
            {
                // Expunges first: a move shows as an expunge in one folder and a new message in another,
                // and the new message can only be replayed as a MOVE if the expunge is already known.
                foreach (var folder in dirty.Where(f => !Troubles.IsWaiting(f.PrimaryName)))
                {
                    try
                    {
                        await reconciler.Synchronizer.MarkVanishedAsync(folder, work).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (TroubleTracker.IsFolderError(ex))
                    {
                        // The folder's own sync below meets the same problem and records it.
                    }
                }
            }
            foreach (var folder in dirty) await SyncLiveAsync(reconciler, folder, batch.Folders[folder.PrimaryName], work).ConfigureAwait(false);
            var dueTroubles = Troubles.Due();
            if (dueTroubles.Count > 0)
            {
                // A folder-level problem (a refused CREATE, a held deletion) is retried by the tree sync;
                // a folder in the state is retried by its own sync.
                await reconciler.TreeSync().SyncAsync([], force: false, work).ConfigureAwait(false);
                foreach (var name in dueTroubles)
                {
                    if (_store.Folders.Find(Target.Id, name) is { } troubled)
                        await reconciler.SyncFolderAsync(troubled, SyncRequest.Incremental, work).ConfigureAwait(false);
                    else if (Troubles.IsDue(name))
                        Troubles.Postpone(name);
                }
            }
            await PendingExpunges.FlushAsync(context, _time.GetUtcNow() - context.ExpungeWait, Troubles, work).ConfigureAwait(false);
            foreach (var due in FoldersWithHeldFlagsDue())
            {
                // Not a witnessed change (the delete guard weighs it as any pass), and not tried again at once if the folder cannot be synced.
                _heldFlagsTried[due] = _time.GetUtcNow();
                if (_store.Folders.Find(Target.Id, due) is { } folder && !Troubles.IsWaiting(due))
                    await reconciler.SyncFolderAsync(folder, SyncRequest.Incremental, work).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Syncs one folder a watcher reported, and checks that the sync saw what the watcher saw.</summary>
    private async Task SyncLiveAsync(Reconciler reconciler, FolderRecord folder, FolderExpectation expected, CancellationToken work)
    {
        if (Troubles.IsWaiting(folder.PrimaryName)) return;
        // Seen while watching, pushed or polled: within a poll interval of happening, the user's own (unless only a
        // look at the folder list found it).
        // (A gap in the watching is covered by the reconciliation pass that follows every reconnect.)
        var request = new SyncRequest { Hints = expected.Hints, Witnessed = expected.Witnessed };
        await reconciler.SyncFolderAsync(_store.Folders.Get(folder.Id) ?? folder, request, work).ConfigureAwait(false);
        if (_store.Folders.Get(folder.Id) is { } synced) _rechecks.Settle(folder.PrimaryName, expected, synced, _time.GetUtcNow());
    }

    /// <summary>
    /// Holds an admin approved (`observer approve`, from another process) since the last look: their
    /// folders are synced now. Returns true when a folder deletion was approved, for the tree sync.
    /// </summary>
    private bool AddApprovals(SignalBatch batch)
    {
        var approved = _store.Holds.All(Target.Id).Where(h => h.ApprovedAt is not null).ToList();
        foreach (var hold in approved.Where(h => h.Kind == HoldKind.Messages))
            batch.Folders.TryAdd(hold.Folder, FolderExpectation.Now(_time.GetUtcNow()));
        return approved.Any(h => h.Kind == HoldKind.Folder);
    }

    /// <summary>Waits for a signal, or until the next timed duty: a pass, a due expunge, a trouble retry, a heartbeat.</summary>
    private async Task WaitAsync(SignalQueue queue, DateTimeOffset nextPass, CancellationToken stopping)
    {
        var now = _time.GetUtcNow();
        var wake = new[]
        {
            nextPass, now + HeartbeatInterval, Troubles.NextRetry() ?? DateTimeOffset.MaxValue,
            NextExpungeDue() ?? DateTimeOffset.MaxValue, _rechecks.NextDue() ?? DateTimeOffset.MaxValue,
            FolderDeletions.NextDue() ?? DateTimeOffset.MaxValue, HeldFlagsDue().Select(h => (DateTimeOffset?)h.Due).Min() ?? DateTimeOffset.MaxValue,
        }.Min();
        var delay = wake - now;
        if (delay <= TimeSpan.Zero) return;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(delay);
        try
        {
            await queue.Reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            // Time for a timed duty.
        }
    }

    /// <summary>
    /// Per folder, when a held flag removal falls due: after the delay on a delayed replica, at once on one that no longer
    /// delays. Folders in trouble wait for their retry, and folders the primary deleted are not synced (their holds go with them).
    /// </summary>
    private IEnumerable<(string Folder, DateTimeOffset Due)> HeldFlagsDue() =>
        _store.HeldFlags.Oldest(Target.Id).Where(h => !Troubles.IsWaiting(h.Folder)).Select(h =>
        {
            var due = Replica.Delays ? h.Oldest + Replica.Delay : h.Oldest;
            // A folder synced for its holds that still has them due (held for deletion, gone from the primary) waits a while, not a spin.
            return (h.Folder, _heldFlagsTried.TryGetValue(h.Folder, out var tried) && tried + HeldFlagsRetry > due ? tried + HeldFlagsRetry : due);
        });

    private static readonly TimeSpan HeldFlagsRetry = TimeSpan.FromMinutes(1);

    /// <summary>When the live loop last synced a folder because a held flag removal fell due there.</summary>
    private readonly Dictionary<string, DateTimeOffset> _heldFlagsTried = new(StringComparer.Ordinal);

    private IEnumerable<string> FoldersWithHeldFlagsDue() => HeldFlagsDue().Where(h => h.Due <= _time.GetUtcNow()).Select(h => h.Folder).ToList();

    private DateTimeOffset? NextExpungeDue() =>
        _store.Messages.OldestVanished(Target.Id).Where(v => !Troubles.IsWaiting(v.Folder)).Select(v => (DateTimeOffset?)v.Oldest).Min() + Replica.WaitBeforeDeleting(_options.MoveWindow);

    /// <summary>Failures no retry can cure: the settings (login, certificate) or the state database.</summary>
    private static bool IsFatal(Exception ex) =>
        ex is ImapAuthenticationException or ImapCertificateException or StateException or UnauthorizedAccessException;

    private static bool ObserverFacing(Exception ex) => ex is ImapException or ReplicationException or NotSupportedException;

    private Task StartWatching(SessionPair pair, SignalQueue queue, CancellationToken cancellationToken)
    {
        var features = pair.Primary.Features;
        var coordinator = new WatchCoordinator(_sessions, _options, _reconnect, Filter(pair), features, _loggers, _time);
        _watching = coordinator;
        _watchConnections = coordinator.Connections;
        return Task.Run(() => coordinator.RunAsync(queue.Writer, cancellationToken), CancellationToken.None);
    }

    private void Heartbeat(bool force)
    {
        var now = _time.GetUtcNow();
        if (!force && now - _lastHeartbeat < HeartbeatInterval) return;
        _lastHeartbeat = now;
        try
        {
            _store.Service.Save(Target.Id, new ServiceRecord
            {
                Pid = Environment.ProcessId,
                StartedAt = _started,
                HeartbeatAt = now,
                PrimaryState = _outages.State(ServerRole.Primary),
                ReplicaState = _outages.State(ServerRole.Replica),
                WatchMode = WatchModeNow,
                LastError = _lastError,
            });
        }
        catch (StateUnavailableException)
        {
            // Only status reads it; a shared state out of reach is reported where it stops the work, and the next beat records again.
        }
    }

    private void LogRetry(Exception error, TimeSpan delay) => Log.Retrying(_logger, error.Message, delay.TotalSeconds);

    private void LogConnected(SessionPair pair) =>
        Log.Connected(_logger, Target.PrimaryEndpoint, Describe(pair.Primary.Features), Target.ReplicaEndpoint, Describe(pair.Replica.Features));

    private static string Describe(SessionFeatures f) =>
        string.Join(' ', new[] { (f.QResync, "QRESYNC"), (f.CondStore && !f.QResync, "CONDSTORE"), (f.Notify, "NOTIFY"), (f.Idle, "IDLE"),
            (f.UidPlus, "UIDPLUS"), (f.Move, "MOVE"), (f.MultiAppend, "MULTIAPPEND") }.Where(x => x.Item1).Select(x => x.Item2));

    private FolderFilter Filter(SessionPair pair) => new(_options.Folders, pair.Primary.Delimiter);

    private Reconciler Reconciler(SessionPair pair, bool oneShot = false, bool polled = false) =>
        new(Context(pair), Filter(pair), Troubles, OpenWorkerAsync, ParallelFolders)
        {
            RetryTroublesNow = oneShot && !polled, InboxFirst = !oneShot, NewMail = oneShot ? null : _inboxMail, QuietWhenUnchanged = polled,
        };

    /// <summary>Folders copied at once: what the primary's connection budget leaves after the watchers.</summary>
    private int ParallelFolders => Math.Max(1, Math.Min(_options.ParallelFolders, _options.MaxConnections - _watchConnections));

    /// <summary>Connections the watchers hold on the primary (none during `sync` and `verify`).</summary>
    private int _watchConnections;

    private async Task<(SyncContext, IAsyncDisposable)?> OpenWorkerAsync(CancellationToken cancellationToken) =>
        await SessionPair.TryConnectAsync(_sessions, _outages, cancellationToken).ConfigureAwait(false) is { } pair ? (Context(pair), pair) : null;

    private SyncContext Context(SessionPair pair) => new()
    {
        Store = _store,
        Target = Target,
        Options = _options,
        Logger = _logger,
        Time = _time,
        Primary = pair.Primary,
        Replica = pair.Replica,
        EarlyListing = pair.EarlyListing,
        FolderDeletions = FolderDeletions,
        Policy = Replica,
        Rescue = _rescue,
        TreeWriteBudget = _live ? TimeSpan.FromSeconds(1) : null,
        Notices = _notices,
        Phantoms = _phantoms,
        Validities = _validities,
        Names = FolderNameMapper.For(pair.Primary, pair.Replica),
        OpenSession = _sessions.TryConnectAsync,
        DefersExpunges = _options.Folders.Scope.Count > 0,
    };
}

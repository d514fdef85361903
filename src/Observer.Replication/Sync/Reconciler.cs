using Microsoft.Extensions.Logging;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>The result of a reconciliation pass over every folder.</summary>
public sealed class PassResult
{
    public List<FolderSyncResult> Folders { get; } = [];
    public int FoldersCreated { get; set; }
    public int FoldersRenamed { get; set; }
    public int FoldersDeleted { get; set; }
    public int Expunged { get; set; }

    /// <summary>Folders whose creation, rename or deletion could not be replayed.</summary>
    public List<(string Folder, string Problem)> TreeProblems { get; } = [];

    /// <summary>True when every folder matched the primary as of the pass.</summary>
    public bool Converged => TreeProblems.Count == 0 && Folders.All(f => f.Outcome is FolderOutcome.Synced or FolderOutcome.Unchanged);

    /// <summary>Whether the pass wrote anything to the replica, or changed the folder tree.</summary>
    public bool ChangedAnything => Expunged + FoldersCreated + FoldersRenamed + FoldersDeleted > 0 || Folders.Any(f => f.ChangedAnything);

    public string Summary()
    {
        var totals = new FolderSyncResult("all")
        {
            Appended = Folders.Sum(f => f.Appended),
            Adopted = Folders.Sum(f => f.Adopted),
            Moved = Folders.Sum(f => f.Moved),
            FlagsSet = Folders.Sum(f => f.FlagsSet),
            Vanished = Expunged + Folders.Sum(f => f.Expunged),
            ExtrasRemoved = Folders.Sum(f => f.ExtrasRemoved),
        };
        var tree = FoldersCreated + FoldersRenamed + FoldersDeleted == 0 ? "" : $"; folders +{FoldersCreated} ~{FoldersRenamed} -{FoldersDeleted}";
        return totals.Summary() + tree;
    }
}

/// <summary>A worker's own connections, opened for a pass with several folders to copy.</summary>
/// <summary>Opens an extra worker for a pass; null when the servers' connection budget has no room for one now.</summary>
internal delegate Task<(SyncContext Context, IAsyncDisposable Connections)?> WorkerFactory(CancellationToken cancellationToken);

/// <summary>
/// A reconciliation pass: the folder tree, then every folder, then every expunge still waiting.
/// Folders with work are shared among up to <paramref name="parallelism"/> workers, each over its own
/// connections; a folder is only ever synced by one worker at a time.
/// </summary>
internal sealed class Reconciler(SyncContext context, FolderFilter filter, TroubleTracker troubles, WorkerFactory? openWorker = null, int parallelism = 1)
{
    private readonly FolderSynchronizer _synchronizer = new(context);

    public FolderSynchronizer Synchronizer => _synchronizer;

    /// <summary>A folder sync found its primary folder gone (renamed or deleted): the tree needs reading again.</summary>
    public bool FoldersVanished { get; set; }

    /// <summary>
    /// Syncs folders in trouble now, whatever their backoff says. A one-shot command (`sync`, `verify --repair`)
    /// is the user asking for a retry; only the live service spaces its retries out.
    /// </summary>
    public bool RetryTroublesNow { get; init; }

    /// <summary>A pass that changed nothing logs at Debug: an account polled every half minute would fill the log otherwise.</summary>
    public bool QuietWhenUnchanged { get; init; }

    /// <summary>
    /// Reads both folder lists on new connections as well (see <see cref="FolderListing"/>): the live
    /// service's connections live long, and a pass is its chance to catch a list that fell behind.
    /// </summary>
    public bool CheckListings { get; init; }

    /// <summary>
    /// Syncs INBOX before the folder tree (live only). New mail lands there, and a tree sync can take
    /// seconds: Courier sleeps 2 s in every RENAME and DELETE, and a reconnect after churn may owe several.
    /// </summary>
    public bool InboxFirst { get; init; }

    /// <summary>The watchers' word that INBOX changed (live only): a slow tree sync stops for it.</summary>
    public InboxMail? NewMail { get; init; }

    /// <summary>A tree sync that lets new mail in INBOX go first when it is slow and <see cref="NewMail"/> is set.</summary>
    public FolderTreeSync TreeSync(Action<ListedTree>? listed = null) =>
        new(context, filter, troubles) { BetweenWrites = NewMail is null ? null : SyncWaitingMailAsync, Listed = listed };

    public async Task<PassResult> RunAsync(bool full, bool force, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var result = new PassResult();
        await using var workers = new PassWorkers(openWorker, parallelism - 1, cancellationToken);
        var inbox = InboxFirst ? await SyncInboxFirstAsync(full, cancellationToken).ConfigureAwait(false) : null;
        if (inbox is not null) result.Folders.Add(inbox);
        var jobs = Channel.CreateUnbounded<FolderJob>(new UnboundedChannelOptions { SingleWriter = true });
        var outcomes = new ConcurrentDictionary<string, FolderSyncResult>(StringComparer.Ordinal);
        var early = new HashSet<string>(StringComparer.Ordinal);
        using var drainStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var drains = new List<Task>();
        // A worker that is open starts on the jobs at once: while the tree is written, on the folders it leaves alone.
        void StartDrains()
        {
            foreach (var opening in workers.Contexts.Skip(drains.Count).ToList())
                drains.Add(DrainAsync(opening, jobs.Reader, outcomes, drainStop.Token));
        }
        // Only in a one-shot pass: a live one may sync INBOX between the tree's writes, on the main connection.
        var besideTree = NewMail is null;
        var treeSync = TreeSync(listed =>
        {
            workers.Want(full ? parallelism : listed.Changed - 1);
            if (!besideTree) return;
            foreach (var folder in listed.Settled)
            {
                if (Job(folder, full, force, listed.PrimaryStatus, listed.ReplicaStatus) is not { } job || (!full && FolderSynchronizer.IsUnchanged(folder, job.Request))) continue;
                jobs.Writer.TryWrite(job);
                early.Add(folder.PrimaryName);
            }
            StartDrains();
        });
        FolderTreeSync.Result tree;
        try
        {
            tree = await treeSync.SyncAsync([], CheckListings ? ListingDoubt.Check : ListingDoubt.None, force, cancellationToken).ConfigureAwait(false);
            var rest = new List<FolderJob>();
            foreach (var folder in tree.Folders)
            {
                if (inbox is not null && folder.PrimaryName == inbox.Folder) continue;
                if (early.Contains(folder.PrimaryName)) continue;
                if (Job(folder, full, force, tree.PrimaryStatus, tree.ReplicaStatus) is { } job) rest.Add(job);
                else outcomes[folder.PrimaryName] = new FolderSyncResult(folder.PrimaryName) { Outcome = FolderOutcome.Failed, Message = "waiting to retry after an error" };
            }
            foreach (var job in rest) jobs.Writer.TryWrite(job);
            jobs.Writer.TryComplete();
            workers.Want(early.Count + rest.Count(j => full || !FolderSynchronizer.IsUnchanged(j.Folder, j.Request)) - 1);
            StartDrains();
        }
        catch (Exception)
        {
            // Not one worker may still use its connections when the pass ends with this failure.
            jobs.Writer.TryComplete();
            await drainStop.CancelAsync().ConfigureAwait(false);
            // Cancelled with the pass, or their connections failed to open: the pass's own error is what is reported.
            await Task.WhenAll(drains).SettledAsync().ConfigureAwait(false);
            throw;
        }
        result.FoldersCreated = tree.Created;
        result.FoldersRenamed = tree.Renamed;
        result.FoldersDeleted = tree.Deleted;
        result.TreeProblems.AddRange(tree.Problems);
        drains.Add(DrainAsync(Task.FromResult<SyncContext?>(context), _synchronizer, jobs.Reader, outcomes, drainStop.Token));
        await Task.WhenAll(drains).ConfigureAwait(false);
        var contexts = workers.Contexts.ToList();
        result.Folders.AddRange(tree.Folders.Where(f => outcomes.ContainsKey(f.PrimaryName)).Select(f => outcomes[f.PrimaryName]));
        if (FoldersVanished)
        {
            // A folder vanished while the pass ran (renamed, deleted, or listed but unopenable): read the tree again.
            FoldersVanished = false;
            var again = await TreeSync().SyncAsync([], ListingDoubt.Check, force, cancellationToken).ConfigureAwait(false);
            result.FoldersRenamed += again.Renamed;
            result.FoldersDeleted += again.Deleted;
            result.FoldersCreated += again.Created;
            result.TreeProblems.AddRange(again.Problems);
        }
        // Within one pass every folder has been looked at, so a move has been seen from both ends.
        // Shared among the workers too: each folder's flush is a SELECT and two writes, one folder after another.
        // Not over a worker whose replica connection a folder's failure closed (Dovecot's BYE for a folder deleted under it).
        IReadOnlyList<SyncContext> flushers = [context, .. (await Task.WhenAll(contexts).ConfigureAwait(false)).OfType<SyncContext>().Where(w => w.Replica.IsConnected)];
        // A delayed replica's expunges still wait out their delay, even in a one-shot pass.
        var markedBefore = context.Policy.Delays ? context.Time.GetUtcNow() - context.ExpungeWait : context.Time.GetUtcNow().AddSeconds(1);
        if (!context.DefersExpunges) result.Expunged = await PendingExpunges.FlushAsync(flushers, markedBefore, troubles, cancellationToken).ConfigureAwait(false);
        // Passes are rare (one per sync, one per ReconcileInterval when live), so pruning here costs nothing.
        var pruned = context.Store.Journal.Prune(context.ReplicaId, context.Options.JournalRetention);
        if (pruned > 0) Log.JournalPruned(context.Logger, pruned, context.Options.JournalRetention.TotalDays);
        if (QuietWhenUnchanged && !result.ChangedAnything) Log.PassCompleteQuietly(context.Logger, tree.Folders.Count, tree.Folders.Count == 1 ? "folder" : "folders", result.Summary(), clock.ElapsedMilliseconds);
        else Log.PassComplete(context.Logger, tree.Folders.Count, tree.Folders.Count == 1 ? "folder" : "folders", result.Summary(), clock.ElapsedMilliseconds);
        return result;
    }

    /// <returns>The outcome, or null when INBOX is left to the pass: not replicated yet, or in trouble.</returns>
    private async Task<FolderSyncResult?> SyncInboxFirstAsync(bool full, CancellationToken cancellationToken)
    {
        if (ReplicatedInbox() is not { } inbox) return null;
        var outcome = await SyncFolderAsync(_synchronizer, inbox, new SyncRequest { Full = full }, cancellationToken).ConfigureAwait(false);
        return outcome.Outcome is FolderOutcome.Synced or FolderOutcome.Unchanged ? outcome : null;
    }

    /// <summary>Syncs INBOX in the middle of a slow tree sync, if a watcher reported a change in it.</summary>
    private async Task SyncWaitingMailAsync(CancellationToken cancellationToken)
    {
        if (NewMail?.Take() != true || ReplicatedInbox() is not { } inbox) return;
        // Reported by a watcher, as in the live loop: the user's own change, not a primary's glitch.
        await SyncFolderAsync(_synchronizer, inbox, new SyncRequest { Witnessed = true }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>INBOX, once it has been copied and is not waiting to retry after an error.</summary>
    private FolderRecord? ReplicatedInbox()
    {
        var inbox = context.Store.Folders.All(context.ReplicaId).FirstOrDefault(f => FolderNameMapper.IsInbox(f.PrimaryName));
        return inbox?.PrimaryUidValidity is null || troubles.IsWaiting(inbox.PrimaryName) ? null : inbox;
    }

    /// <summary>A folder to sync in this pass, and what the lists said of it.</summary>
    private sealed record FolderJob(FolderRecord Folder, SyncRequest Request);

    /// <returns>Null for a folder waiting out its backoff after an error.</returns>
    private FolderJob? Job(FolderRecord folder, bool full, bool force,
        IReadOnlyDictionary<string, MailboxStatus> primaryStatus, IReadOnlyDictionary<string, MailboxStatus> replicaStatus)
    {
        if (!force && !RetryTroublesNow && troubles.IsWaiting(folder.PrimaryName)) return null;
        return new FolderJob(folder, new SyncRequest
        {
            Full = full,
            Force = force,
            PrimaryStatus = primaryStatus.GetValueOrDefault(folder.PrimaryName),
            ReplicaStatus = replicaStatus.GetValueOrDefault(folder.ReplicaName),
        });
    }

    private Task DrainAsync(Task<SyncContext?> opening, ChannelReader<FolderJob> jobs, ConcurrentDictionary<string, FolderSyncResult> outcomes, CancellationToken cancellationToken) =>
        DrainAsync(opening, null, jobs, outcomes, cancellationToken);

    private async Task DrainAsync(Task<SyncContext?> opening, FolderSynchronizer? synchronizer, ChannelReader<FolderJob> jobs,
        ConcurrentDictionary<string, FolderSyncResult> outcomes, CancellationToken cancellationToken)
    {
        if (synchronizer is null)
        {
            // A worker the budget had no room for: the others, and the pass's own connections, take its folders.
            if (await opening.WaitAsync(cancellationToken).ConfigureAwait(false) is not { } worker) return;
            synchronizer = new FolderSynchronizer(worker);
        }
        await foreach (var job in jobs.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            outcomes[job.Folder.PrimaryName] = await SyncFolderAsync(synchronizer, job.Folder, job.Request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Syncs one folder, turning a folder-level failure into trouble instead of an exception.</summary>
    public Task<FolderSyncResult> SyncFolderAsync(FolderRecord folder, SyncRequest request, CancellationToken cancellationToken) =>
        SyncFolderAsync(_synchronizer, folder, request, cancellationToken);

    private async Task<FolderSyncResult> SyncFolderAsync(FolderSynchronizer synchronizer, FolderRecord folder, SyncRequest request, CancellationToken cancellationToken)
    {
        // What the watchers reported so far is seen by this sync; only a later change needs another.
        if (FolderNameMapper.IsInbox(folder.PrimaryName)) NewMail?.Take();
        try
        {
            var outcome = await synchronizer.SyncAsync(folder, request, cancellationToken).ConfigureAwait(false);
            ReplicationMetrics.Synced(context.Target, outcome);
            troubles.Clear(folder.PrimaryName);
            if (outcome.Outcome == FolderOutcome.Held)
            {
                // Reported once, when the hold begins; a pass that finds it again only refreshes its numbers.
                if (context.Store.Holds.Put(context.ReplicaId, folder.PrimaryName, HoldKind.Messages, outcome.HeldDeletions, outcome.Message!))
                    Log.DeleteGuardHeld(context.Logger, folder.PrimaryName, outcome.Message!);
            }
            else if (context.Store.Holds.Find(context.ReplicaId, folder.PrimaryName, HoldKind.Messages) is { } hold)
            {
                // Approved and applied, or the primary no longer asks for those deletions.
                context.Store.Holds.Clear(context.ReplicaId, folder.PrimaryName, HoldKind.Messages);
                Log.HoldReleased(context.Logger, folder.PrimaryName, hold.ApprovedAt is null ? "no longer needed" : "approved and applied");
            }
            return outcome;
        }
        catch (FolderVanishedException ex)
        {
            FoldersVanished = true;
            context.Logger.LogDebug("{Folder}: gone from the primary; the folder tree is read again", ex.Folder);
            return new FolderSyncResult(folder.PrimaryName) { Outcome = FolderOutcome.Unchanged, Message = ex.Message };
        }
        catch (Exception ex) when (TroubleTracker.IsFolderError(ex))
        {
            var message = TroubleTracker.Describe(ex);
            ReplicationMetrics.Failed(context.Target.Account, context.Target.Name, "folder");
            troubles.Record(folder.PrimaryName, "error", message);
            return new FolderSyncResult(folder.PrimaryName) { Outcome = FolderOutcome.Failed, Message = message };
        }
    }
}

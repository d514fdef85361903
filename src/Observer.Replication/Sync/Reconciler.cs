using Microsoft.Extensions.Logging;
using System.Collections.Concurrent;
using System.Diagnostics;
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

    public string Summary()
    {
        var totals = new FolderSyncResult("all")
        {
            Appended = Folders.Sum(f => f.Appended),
            Adopted = Folders.Sum(f => f.Adopted),
            Moved = Folders.Sum(f => f.Moved),
            FlagsSet = Folders.Sum(f => f.FlagsSet),
            Vanished = Expunged,
            ExtrasRemoved = Folders.Sum(f => f.ExtrasRemoved),
        };
        var tree = FoldersCreated + FoldersRenamed + FoldersDeleted == 0 ? "" : $"; folders +{FoldersCreated} ~{FoldersRenamed} -{FoldersDeleted}";
        return totals.Summary() + tree;
    }
}

/// <summary>A worker's own connections, opened for a pass with several folders to copy.</summary>
internal delegate Task<(SyncContext Context, IAsyncDisposable Connections)> WorkerFactory(CancellationToken cancellationToken);

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
    public FolderTreeSync TreeSync(Action<int>? listed = null) =>
        new(context, filter, troubles) { BetweenWrites = NewMail is null ? null : SyncWaitingMailAsync, Listed = listed };

    public async Task<PassResult> RunAsync(bool full, bool force, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var result = new PassResult();
        await using var workers = new PassWorkers(openWorker, parallelism - 1, cancellationToken);
        var inbox = InboxFirst ? await SyncInboxFirstAsync(full, cancellationToken).ConfigureAwait(false) : null;
        if (inbox is not null) result.Folders.Add(inbox);
        var treeSync = TreeSync(changed => workers.Want(full ? parallelism : changed - 1));
        var tree = await treeSync.SyncAsync([], CheckListings ? ListingDoubt.Check : ListingDoubt.None, force, cancellationToken).ConfigureAwait(false);
        result.FoldersCreated = tree.Created;
        result.FoldersRenamed = tree.Renamed;
        result.FoldersDeleted = tree.Deleted;
        result.TreeProblems.AddRange(tree.Problems);
        var queue = new ConcurrentQueue<(int Index, FolderRecord Folder, SyncRequest Request)>();
        var outcomes = new FolderSyncResult[tree.Folders.Count];
        for (var i = 0; i < tree.Folders.Count; i++)
        {
            var folder = tree.Folders[i];
            if (inbox is not null && folder.PrimaryName == inbox.Folder) continue;
            if (!force && !RetryTroublesNow && troubles.IsWaiting(folder.PrimaryName))
            {
                outcomes[i] = new FolderSyncResult(folder.PrimaryName) { Outcome = FolderOutcome.Failed, Message = "waiting to retry after an error" };
                continue;
            }
            queue.Enqueue((i, folder, new SyncRequest
            {
                Full = full,
                Force = force,
                PrimaryStatus = tree.PrimaryStatus.GetValueOrDefault(folder.PrimaryName),
                ReplicaStatus = tree.ReplicaStatus.GetValueOrDefault(folder.ReplicaName),
            }));
        }
        workers.Want(queue.Count(q => full || !FolderSynchronizer.IsUnchanged(q.Folder, q.Request)) - 1);
        var contexts = workers.Contexts.ToList();
        var drains = contexts.Select(async opening => await DrainAsync(new FolderSynchronizer(await opening.ConfigureAwait(false)), queue, outcomes, cancellationToken).ConfigureAwait(false));
        await Task.WhenAll(drains.Prepend(DrainAsync(_synchronizer, queue, outcomes, cancellationToken))).ConfigureAwait(false);
        result.Folders.AddRange(outcomes.Where(o => o is not null));
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
        IReadOnlyList<SyncContext> flushers = [context, .. (await Task.WhenAll(contexts).ConfigureAwait(false)).Where(w => w.Replica.IsConnected)];
        result.Expunged = await PendingExpunges.FlushAsync(flushers, context.Time.GetUtcNow().AddSeconds(1), troubles, cancellationToken).ConfigureAwait(false);
        // Passes are rare (one per sync, one per ReconcileInterval when live), so pruning here costs nothing.
        var pruned = context.Store.Journal.Prune(context.ReplicaId, context.Options.JournalRetention);
        if (pruned > 0) Log.JournalPruned(context.Logger, pruned, context.Options.JournalRetention.TotalDays);
        Log.PassComplete(context.Logger, tree.Folders.Count, result.Summary(), clock.ElapsedMilliseconds);
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

    private async Task DrainAsync(FolderSynchronizer synchronizer, ConcurrentQueue<(int Index, FolderRecord Folder, SyncRequest Request)> queue,
        FolderSyncResult[] outcomes, CancellationToken cancellationToken)
    {
        while (queue.TryDequeue(out var item))
            outcomes[item.Index] = await SyncFolderAsync(synchronizer, item.Folder, item.Request, cancellationToken).ConfigureAwait(false);
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
            troubles.Record(folder.PrimaryName, "error", message);
            return new FolderSyncResult(folder.PrimaryName) { Outcome = FolderOutcome.Failed, Message = message };
        }
    }
}

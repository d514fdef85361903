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

/// <summary>A reconciliation pass: the folder tree, then every folder, then every expunge still waiting.</summary>
internal sealed class Reconciler(SyncContext context, FolderFilter filter, TroubleTracker troubles)
{
    private readonly FolderSynchronizer _synchronizer = new(context);

    public FolderSynchronizer Synchronizer => _synchronizer;

    public async Task<PassResult> RunAsync(bool full, bool force, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var result = new PassResult();
        var tree = await new FolderTreeSync(context, filter, troubles).SyncAsync([], force, cancellationToken).ConfigureAwait(false);
        result.FoldersCreated = tree.Created;
        result.FoldersRenamed = tree.Renamed;
        result.FoldersDeleted = tree.Deleted;
        result.TreeProblems.AddRange(tree.Problems);
        foreach (var folder in tree.Folders)
        {
            if (!force && troubles.IsWaiting(folder.PrimaryName))
            {
                result.Folders.Add(new FolderSyncResult(folder.PrimaryName) { Outcome = FolderOutcome.Failed, Message = "waiting to retry after an error" });
                continue;
            }
            var request = new SyncRequest
            {
                Full = full,
                Force = force,
                PrimaryStatus = tree.PrimaryStatus.GetValueOrDefault(folder.PrimaryName),
                ReplicaStatus = tree.ReplicaStatus.GetValueOrDefault(folder.ReplicaName),
            };
            result.Folders.Add(await SyncFolderAsync(folder, request, cancellationToken).ConfigureAwait(false));
        }
        // Within one pass every folder has been looked at, so a move has been seen from both ends.
        result.Expunged = await PendingExpunges.FlushAsync(context, context.Time.GetUtcNow().AddSeconds(1), troubles, cancellationToken).ConfigureAwait(false);
        Log.PassComplete(context.Logger, tree.Folders.Count, result.Summary(), clock.ElapsedMilliseconds);
        return result;
    }

    /// <summary>Syncs one folder, turning a folder-level failure into trouble instead of an exception.</summary>
    public async Task<FolderSyncResult> SyncFolderAsync(FolderRecord folder, SyncRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var outcome = await _synchronizer.SyncAsync(folder, request, cancellationToken).ConfigureAwait(false);
            if (outcome.Outcome == FolderOutcome.Held)
            {
                Log.DeleteGuardHeld(context.Logger, folder.PrimaryName, outcome.Message!);
                troubles.Record(folder.PrimaryName, "delete-guard", outcome.Message!);
            }
            else
            {
                troubles.Clear(folder.PrimaryName);
            }
            return outcome;
        }
        catch (Exception ex) when (TroubleTracker.IsFolderError(ex))
        {
            var message = TroubleTracker.Describe(ex);
            troubles.Record(folder.PrimaryName, "error", message);
            return new FolderSyncResult(folder.PrimaryName) { Outcome = FolderOutcome.Failed, Message = message };
        }
    }
}

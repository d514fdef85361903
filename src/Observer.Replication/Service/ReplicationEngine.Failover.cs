using Microsoft.Extensions.Logging;
using Observer.State;

namespace Observer.Replication;

/// <summary>What a promotion asks of a replica's engine: the split-brain comparison and copy-back, and the drain.</summary>
public sealed partial class ReplicationEngine
{
    /// <summary>The server replication reads from now: a promoted replica (the state says), or the settings' primary.</summary>
    private string CurrentPrimary => _store.Failovers.CurrentPrimary() ?? _options.PrimaryName;

    /// <summary>
    /// Before the first write to a server that followed the old primary: copies back to the new primary what only that server
    /// holds since the failover (see <see cref="SplitBrain"/>), then lets replication write to it as to any replica.
    /// A server that cannot be read leaves the check pending, and nothing is written to it.
    /// </summary>
    private async Task ReconcileFailoverAsync(SessionPair pair, CancellationToken cancellationToken)
    {
        if (_store.Failovers.Check(Account, Replica.Name) is not { ReconciledAt: null } check) return;
        var splitBrain = SplitBrainOf(pair, check);
        var report = await splitBrain.CompareAsync(cancellationToken).ConfigureAwait(false);
        var copied = await splitBrain.CopyBackAsync(report, cancellationToken).ConfigureAwait(false);
        _store.Failovers.MarkReconciled(check.Failover.Id, check.Server);
        var onlyOnNew = report.Folders.Sum(f => f.OnlyOnNew.Count);
        var conflicts = report.Folders.Sum(f => f.FlagConflicts.Count);
        if (copied + onlyOnNew + conflicts == 0)
            _logger.LogInformation("failover to {Primary}: {Server} holds nothing the new primary lacks; replicating to it", check.Failover.NewPrimary, check.Server);
        else
            _logger.LogWarning("failover to {Primary}: {Copied} message(s) copied back from {Server} to the new primary; {OnlyOnNew} new on the new primary; " +
                               "{Conflicts} flag change(s) on the old primary replaced by the new primary's; `observer report split-brain` lists them",
                check.Failover.NewPrimary, copied, check.Server, onlyOnNew, conflicts);
    }

    /// <summary>`observer report split-brain`: the comparison alone, writing nothing; null when no promotion concerns this replica.</summary>
    public async Task<SplitBrainReport?> SplitBrainReportAsync(CancellationToken cancellationToken)
    {
        if (_store.Failovers.Check(Account, Replica.Name) is not { } check) return null;
        var pipeline = ReconnectPolicy.Build(_reconnect, _reconnect.SyncAttempts, _time, LogRetry);
        return await pipeline.ExecuteAsync(async token =>
        {
            await using var pair = await ConnectBesideStateCheckAsync(token).ConfigureAwait(false);
            return await SplitBrainOf(pair, check).CompareAsync(token).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    private SplitBrain SplitBrainOf(SessionPair pair, FailoverCheck check)
    {
        // The point is what the promoted server held: it says nothing of another server promoted since, so then every
        // message the new primary lacks is the compared server's own, and nothing it holds is lost.
        var point = check.Failover.NewPrimary == CurrentPrimary ? _store.Failovers.Point(check.Failover.Id) : [];
        return new SplitBrain(Context(pair), Filter(pair), check, point);
    }

    /// <summary>`observer drain` and a soft `observer promote`: one pass, then a comparison of every message; recorded in the state.</summary>
    public async Task<DrainRecord> DrainAsync(CancellationToken cancellationToken)
    {
        var pass = await SyncOnceAsync(full: false, cancellationToken).ConfigureAwait(false);
        var (report, _) = await VerifyAsync(repair: false, force: false, cancellationToken).ConfigureAwait(false);
        var identical = pass.Converged && report.Identical;
        var detail = identical
            ? $"identical ({report.Folders.Sum(f => f.PrimaryCount)} messages in {report.Folders.Count} folders)"
            : "differs: " + string.Join("; ", report.Folders.Where(f => !f.Identical).Take(5).Select(f => $"{f.Folder}: {f.Describe()}")
                .Concat(report.ReplicaOnlyFolders.Take(5).Select(f => $"{f.Folder}: folder only on the replica"))
                .DefaultIfEmpty(pass.Converged ? "" : "the pass did not finish (`observer sync` says why)"));
        var drain = new DrainRecord(Account, Replica.Name, _time.GetUtcNow(), identical, detail);
        _store.Failovers.RecordDrain(drain);
        return drain;
    }
}

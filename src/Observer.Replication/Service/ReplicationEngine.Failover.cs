using Microsoft.Extensions.Logging;
using Observer.State;

namespace Observer.Replication;

/// <summary>What a promotion asks of a replica's engine: the split-brain comparison and copy-back, the rescue of the old primary's extras, and the drain.</summary>
public sealed partial class ReplicationEngine
{
    /// <summary>The server replication reads from now: a promoted replica (the state says), or the settings' primary.</summary>
    private string CurrentPrimary => _store.Failovers.CurrentPrimary() ?? _options.PrimaryName;

    /// <summary>Looked up again at every attempt (see <see cref="LookUpTarget"/>): the old primary's extras are rescued, not removed.</summary>
    private ExtrasRescue? _rescue;

    /// <summary>
    /// Before the first write to a server that followed the old primary: copies back to the new primary what only that server
    /// holds since the failover (see <see cref="SplitBrain"/>), then lets replication write to it as to any replica.
    /// A server that cannot be read, or a copy the new primary refuses, leaves the check pending, and nothing is written to it.
    /// </summary>
    private async Task ReconcileFailoverAsync(SessionPair pair, CancellationToken cancellationToken)
    {
        _rescue = null;
        if (CheckFor() is not { } check) return;
        var reconciledAt = check.ReconciledAt;
        if (reconciledAt is null)
        {
            // The copy-back may write to either server: lists read before it may no longer be true.
            pair.EarlyListing?.Drop();
            var splitBrain = SplitBrainOf(pair, check);
            var report = await splitBrain.CompareAsync(cancellationToken).ConfigureAwait(false);
            var copied = await splitBrain.CopyBackAsync(report, cancellationToken).ConfigureAwait(false);
            _store.Failovers.MarkReconciled(check.Failover.Id, check.Server);
            LogReconciled(check, report, copied);
            reconciledAt = _time.GetUtcNow();
        }
        // The old primary may still receive mail after its comparison (its queue, a backup MX): for as long as the journal
        // tells what Observer itself appended there, such mail is copied back rather than removed as an extra.
        if (check.Server == check.Failover.OldPrimary && _time.GetUtcNow() < reconciledAt + _options.JournalRetention)
        {
            var replicaId = Target.Id;
            _rescue = new ExtrasRescue(check, () =>
            {
                var known = Known(check);
                known.UnionWith(_store.Journal.AppendedSince(replicaId, check.Failover.PromotedAt));
                return known;
            });
        }
    }

    /// <summary>
    /// The comparison this replica owes under the current primary, if any. A mirror that has never been written to and that
    /// the promotion did not name (an account added since, a server renamed, a replica added) is compared too: with no
    /// failover point, every message it holds that the new primary lacks is copied back, so nothing on it is lost.
    /// </summary>
    private FailoverCheck? CheckFor()
    {
        var current = CurrentPrimary;
        if (_store.Failovers.Check(Account, Replica.Name) is { } check && check.Failover.NewPrimary == current) return check;
        if (_store.Failovers.CurrentPrimary() is null || Replica.Policy != ReplicaPolicy.Mirror || _store.Folders.All(Target.Id).Count > 0) return null;
        return _store.Failovers.AddCheck(Account, Replica.Name, current, _options.PrimaryName);
    }

    private void LogReconciled(FailoverCheck check, SplitBrainReport report, int copied)
    {
        var onlyOnNew = report.Folders.Sum(f => f.OnlyOnNew.Count);
        var conflicts = report.Folders.Sum(f => f.FlagConflicts.Count);
        if (copied + onlyOnNew + conflicts == 0)
            _logger.LogInformation("failover to {Primary}: {Server} holds nothing the new primary lacks; replicating to it", check.Failover.NewPrimary, check.Server);
        else
            _logger.LogWarning("failover to {Primary}: {Copied} message(s) copied back from {Server} to the new primary; {OnlyOnNew} new on the new primary; " +
                               "{Conflicts} flag change(s) on the old primary replaced by the new primary's; `observer report split-brain` lists them",
                check.Failover.NewPrimary, copied, check.Server, onlyOnNew, conflicts);
    }

    /// <summary>`observer report split-brain`: the comparison alone, writing nothing to the servers; null when no promotion concerns this replica.</summary>
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

    /// <summary>
    /// The point is what the promoted server held: it says nothing of another server promoted since, so then every message the
    /// new primary lacks is the compared server's own, and nothing it holds is lost.
    /// </summary>
    private IReadOnlyList<FailoverMessage> PointOf(FailoverCheck check) =>
        check.Failover.NewPrimary == CurrentPrimary ? _store.Failovers.Point(check.Failover.Id) : [];

    /// <summary>What the new primary is known to have held: the point's MD5s, and every copy made back for this failover.</summary>
    private HashSet<string> Known(FailoverCheck check) =>
        PointOf(check).Select(p => Md5.Hex(p.Md5)).Concat(CopiedBack.Md5s(_store, check)).ToHashSet(StringComparer.Ordinal);

    /// <summary>A failover's comparison covers every replicated folder, whatever `--folders` a command was given: it is recorded as done for the whole server.</summary>
    private SplitBrain SplitBrainOf(SessionPair pair, FailoverCheck check) =>
        new(Context(pair), new FolderFilter(_options.Folders.Exclude, pair.Primary.Delimiter, _options.Folders.Include), check, PointOf(check), Known(check));

    /// <summary>`observer drain` and a soft `observer promote`: one pass, then a comparison of every message; recorded in the state.</summary>
    public async Task<DrainRecord> DrainAsync(CancellationToken cancellationToken)
    {
        var pass = await SyncOnceAsync(full: false, cancellationToken).ConfigureAwait(false);
        var (report, _) = await VerifyAsync(repair: false, force: false, cancellationToken).ConfigureAwait(false);
        var identical = pass.Converged && report.Identical;
        var detail = identical
            ? $"identical ({Counted.Of(report.Folders.Sum(f => f.PrimaryCount), "message")} in {Counted.Of(report.Folders.Count, "folder")})"
            : "differs: " + string.Join("; ", report.Folders.Where(f => !f.Identical).Take(5).Select(f => $"{f.Folder}: {f.Describe()}")
                .Concat(report.ReplicaOnlyFolders.Take(5).Select(f => $"{f.Folder}: folder only on the replica"))
                .DefaultIfEmpty(pass.Converged ? "" : "the pass did not finish (`observer sync` says why)"));
        var drain = new DrainRecord(Account, Replica.Name, _time.GetUtcNow(), identical, detail);
        _store.Failovers.RecordDrain(drain);
        return drain;
    }
}

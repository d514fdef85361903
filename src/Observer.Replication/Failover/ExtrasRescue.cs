using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// On the old primary after a promotion: a message it holds that the new primary lacks is never simply removed as an
/// extra. Mail can still reach it after its comparison (its own queue, a backup MX, a client saving a sent copy), and
/// that mail was accepted by a primary. Just before extras are removed from a folder, each is read: one whose bytes
/// the new primary is not known to have held (not in the failover point, not copied back already, not in this
/// folder's map, not appended here by Observer) is copied to the new primary and left in place, for the next pass to
/// pair with its copy.
/// </summary>
/// <param name="known">What the new primary is known to have held (the failover point's MD5s, in hex, and every copy made back),
/// and what Observer itself appended to the old primary since the failover.</param>
internal sealed class ExtrasRescue(FailoverCheck check, Func<IReadOnlySet<string>> known)
{
    /// <summary>Read at the first extra, not at every connection: the failover point can be a whole mailbox of rows.</summary>
    private readonly Lazy<IReadOnlySet<string>> _known = new(known);

    /// <summary>Copies back what only the old primary holds; returns the extras that are safe to remove.</summary>
    public async Task<IReadOnlyList<MessageSummary>> KeepOwnAsync(SyncContext context, FolderRecord folder, IReadOnlyList<MessageSummary> extras,
        CancellationToken cancellationToken)
    {
        var mapped = context.Store.Messages.ForFolder(folder.Id).Values.Select(r => Md5.Hex(r.Md5)).ToHashSet(StringComparer.Ordinal);
        var read = await SplitBrain.ReadAsync(context.Replica, folder.ReplicaName, cancellationToken, UidSet.FromUids(extras.Select(e => e.Uid))).ConfigureAwait(false);
        var candidates = read.Where(m => !_known.Value.Contains(m.Md5) && !mapped.Contains(m.Md5)).ToList();
        // An extra whose body did not come back was not judged: it stays, for the next pass to look at again.
        var judged = read.Select(m => m.Uid).ToHashSet();
        if (candidates.Count == 0) return extras.Where(e => judged.Contains(e.Uid)).ToList();
        using var _ = await CopyBackLock.TakeAsync(context.Store, check.Failover.Id, cancellationToken).ConfigureAwait(false);
        // Under the lock: what another server copied back meanwhile counts as known.
        var copied = CopiedBack.Md5s(context.Store, check);
        var own = candidates.Where(m => !copied.Contains(m.Md5)).ToList();
        await CopiedBack.CopyAsync(context, check, folder.ReplicaName, folder.PrimaryName, own, cancellationToken).ConfigureAwait(false);
        // What was copied back now stays until the next pass pairs it with its copy; one another server copied back may go, as the new primary has it.
        var kept = own.Select(m => m.Uid).ToHashSet();
        return extras.Where(e => judged.Contains(e.Uid) && !kept.Contains(e.Uid)).ToList();
    }
}

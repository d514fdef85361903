using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// A server can carry out an APPEND or MOVE after the connection it came on was dropped. So work an earlier pass left in
/// doubt can land in the replica folder after the next pass read it, beside the copies that pass made again. Before that
/// pass clears the doubt, it looks at every message that came into the folder since it selected it: one it recorded is
/// its own; a second copy of a message placed in doubt and recorded again is Observer's own duplicate, and goes; anything
/// else is left below the checkpoint, so that the next pass reads the replica folder and finds it among the extras.
/// </summary>
/// <remarks>
/// The duplicates go on every kind of replica, and while the delete guard holds the folder's deletions: they are no mail
/// of anyone's, only a second copy of a message whose recorded copy stays.
/// </remarks>
internal sealed class LateArrivals(SyncContext context, FolderRecord folder)
{
    /// <returns>The replica UID below which every message in the folder is accounted for.</returns>
    /// <param name="knownExtras">Replica messages not recorded that the pass found when it read the folder.</param>
    /// <param name="open">The folder's journal entries that were open when the pass began.</param>
    public async Task<uint> CheckAsync(SelectedMailbox selected, UidSet knownExtras, IReadOnlyList<JournalEntry> open,
        FolderSyncResult result, CancellationToken cancellationToken)
    {
        var since = selected.UidNext ?? 1;
        // A server may show new messages to a session only after a later command (Courier).
        await context.Replica.NoopAsync(cancellationToken).ConfigureAwait(false);
        // "n:*" names the last message even when its UID is below n.
        var arrived = (await context.Replica.SearchAsync(SearchQuery.Uids(UidSet.Range(since, UidSet.Star)), cancellationToken).ConfigureAwait(false))
            .Expand().Where(u => u >= since).ToList();
        if (arrived.Count == 0) return since;
        var seenTo = arrived.Max() == uint.MaxValue ? uint.MaxValue : arrived.Max() + 1;
        // Copies recorded since the SELECT: the pass's own, among them those of the messages placed in doubt.
        var recorded = context.Store.Messages.FromReplicaUid(folder.Id, since);
        var known = recorded.Select(r => r.ReplicaUid).ToHashSet();
        if (context.Policy.Keeps) known.UnionWith(context.Store.Kept.ReplicaUids(folder.Id));
        known.UnionWith(knownExtras.Expand());
        var unknown = arrived.Where(u => !known.Contains(u)).ToList();
        if (unknown.Count == 0) return seenTo;

        var twice = await DuplicatesAsync(unknown, recorded, open, cancellationToken).ConfigureAwait(false);
        if (twice.Count > 0) await RemoveAsync(twice, result, cancellationToken).ConfigureAwait(false);
        var left = unknown.Where(u => !twice.Contains(u)).ToList();
        if (left.Count == 0) return seenTo;
        Log.UnknownArrivals(context.Logger, folder.PrimaryName, left.Count, UidSet.FromUids(left).ToString());
        return left.Min();
    }

    /// <summary>
    /// Of <paramref name="unknown"/>, the copies of a message appended (or moved in) in doubt and recorded again: each has
    /// the bytes the recorded copy has, which are the primary's, or the form this replica stores them in.
    /// </summary>
    private async Task<HashSet<uint>> DuplicatesAsync(List<uint> unknown, IReadOnlyList<MessageRecord> recorded, IReadOnlyList<JournalEntry> open,
        CancellationToken cancellationToken)
    {
        var doubted = open
            .Where(e => e.Operation is JournalRepository.Append or JournalRepository.Move or JournalRepository.Copy && e.Md5 is not null && e.PrimaryUid is not null)
            .Select(e => (e.PrimaryUid!.Value, Md5.Hex(e.Md5!)))
            .ToHashSet();
        var again = recorded.Where(r => r.VanishedAt is null && doubted.Contains((r.PrimaryUid, Md5.Hex(r.Md5)))).ToList();
        var twice = new HashSet<uint>();
        if (again.Count == 0) return twice;
        var digests = new Dictionary<uint, string>();
        await foreach (var copy in context.Replica.FetchDigestsAsync(UidSet.FromUids(unknown.Concat(again.Select(r => r.ReplicaUid))), cancellationToken).ConfigureAwait(false))
            digests[copy.Uid] = Md5.Hex(copy.Md5);
        var forms = again.Select(r => Md5.Hex(r.Md5)).Concat(again.Select(r => digests.GetValueOrDefault(r.ReplicaUid)).OfType<string>()).ToHashSet(StringComparer.Ordinal);
        twice.UnionWith(unknown.Where(u => digests.TryGetValue(u, out var md5) && forms.Contains(md5)));
        return twice;
    }

    private async Task RemoveAsync(HashSet<uint> twice, FolderSyncResult result, CancellationToken cancellationToken)
    {
        var uids = UidSet.FromUids(twice);
        await ExtraRemoval.ExpungeAsync(context, folder, uids, ", stored twice", cancellationToken).ConfigureAwait(false);
        Log.LateDuplicatesRemoved(context.Logger, folder.PrimaryName, twice.Count, uids.ToString());
        result.ExtrasRemoved += twice.Count;
    }
}

using Observer.Mail;

namespace Observer.Replication;

public sealed partial class ReplicationEngine
{
    /// <summary>Whether every folder of this account has been synced at least once: its first copy is behind it.</summary>
    public async Task<bool> CopiedBeforeAsync()
    {
        LookUpTargetAgain();
        await _store.Opened.ConfigureAwait(false);
        var known = _store.Folders.All(Target.Id);
        return known.Count > 0 && known.All(f => f.LastSyncedAt is not null);
    }

    /// <summary>
    /// A polled account's cheap look, for a service of many accounts: one login to the primary and one LIST-STATUS,
    /// compared with the checkpoints. False only when every folder's status equals its checkpoint and nothing else is
    /// owed (a write in doubt, a folder in trouble, a hold, a delayed replica's held work fallen due); true when anything may have changed, or when
    /// the server cannot say so in one command (no LIST-STATUS or CONDSTORE): then a full pass follows. The replica
    /// is not looked at: what changes there behind Observer's back is found by the full pass every ReconcileInterval.
    /// </summary>
    public async Task<bool> PrimaryMayHaveChangedAsync(CancellationToken cancellationToken)
    {
        LookUpTargetAgain();
        await _store.Opened.ConfigureAwait(false);
        var id = Target.Id;
        var known = _store.Folders.All(id);
        if (known.Count == 0 || known.Any(f => f.LastSyncedAt is null || f.PrimaryModSeq is null)) return true;
        if (_store.Journal.OpenCount(id) > 0 || _store.Troubles.All(id).Count > 0 || _store.Holds.All(id).Count > 0) return true;
        // A delayed replica's held work that has fallen due is owed now; until then its folders waiting to be deleted are
        // not the primary's any more, and no reason for a pass at every poll.
        var clock = _time.GetUtcNow();
        if (_store.Messages.OldestVanished(id).Any(v => v.Oldest + Replica.WaitBeforeDeleting(_options.MoveWindow) <= clock)) return true;
        if (known.Any(f => f.GoneSince is { } gone && gone + Replica.WaitBeforeDeleting(_options.FolderDeleteDelay) <= clock)) return true;
        if (_store.HeldFlags.Oldest(id).Any(h => !Replica.Delays || h.Oldest + Replica.Delay <= clock)) return true;
        known = known.Where(f => f.GoneSince is null).ToList();
        await using var primary = await _sessions.ConnectAsync(ServerRole.Primary, "probe", cancellationToken).ConfigureAwait(false);
        if (!primary.Features.ListStatus || !primary.Features.CondStore) return true;
        var listed = await primary.ListAsync(withStatus: true, cancellationToken).ConfigureAwait(false);
        var filter = new FolderFilter(_options.Folders, primary.Delimiter);
        var now = listed.Where(m => m.Mailbox.IsSelectable && filter.Includes(m.Mailbox.Name)).ToDictionary(m => m.Mailbox.Name, m => m.Status, StringComparer.Ordinal);
        if (now.Count != known.Count) return true;
        foreach (var folder in known)
        {
            if (!now.TryGetValue(folder.PrimaryName, out var status) || status is null) return true;
            if (PrimaryCheckpoint.Moved(folder, status)) return true;
        }
        return false;
    }
}

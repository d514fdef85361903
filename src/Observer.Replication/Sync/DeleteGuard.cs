using Observer.State;

namespace Observer.Replication;

/// <summary>
/// The safety guard of "primary knows best": a primary that suddenly looks empty (a broken server,
/// a restore gone wrong, the wrong account) must not empty the copy. Ordinary churn must never trip
/// it, so it weighs evidence, not counts alone:
/// <list type="bullet">
/// <item>Expunges a watcher reported while live (NOTIFY, IDLE, or the STATUS poll seconds later) are the
/// user's own: never held. A gap in the watching is covered by the pass that follows every reconnect.</item>
/// <item>Where the folder is the same one as at its checkpoint (same UIDVALIDITY), what matters is how
/// much the primary folder shrank: a folder whose messages come and go (a POP client, a filter, a busy
/// shared inbox) deletes many but keeps its size, within the swing it has shown. Held when the primary
/// now holds far fewer than the fewest it held at any sync of the last <see cref="LowWindow"/>.
/// (Measured on the primary, not the replica, whose count may still include copies waiting to be removed.)</item>
/// <item>Where there is no such continuity (a first sync into a filled replica, a UIDVALIDITY reset),
/// every deletion is unexplained: held when they are a large share of the replica folder.</item>
/// </list>
/// </summary>
internal static class DeleteGuard
{
    /// <summary>How far back a folder's smallest size still vouches for a shrink: a day covers a working day's swing.</summary>
    public static readonly TimeSpan LowWindow = TimeSpan.FromHours(24);

    public static string? Check(GuardFacts facts, ReplicationOptions options)
    {
        if (facts.Witnessed || facts.Deletions <= options.MaxDeleteFloor || facts.ReplicaMessages == 0) return null;
        // A folder seen empty before: what its copy holds is not the primary's. One whose size was never recorded (its
        // first sync held deletions, so the size before them stands) proves nothing, and is weighed by share below.
        if (facts.Continuous && facts.PrimaryBefore is 0) return null;
        if (facts.Continuous && facts.PrimaryBefore is { } before && before > 0)
        {
            var baseline = facts.PrimaryLow is { } low ? Math.Min(low, before) : before;
            var lost = (long)baseline - facts.PrimaryMessages;
            if (lost <= options.MaxDeleteFloor) return null;
            var share = 100.0 * lost / baseline;
            if (share <= options.MaxDeletePercent) return null;
            var fewest = baseline < before ? $", and from {baseline}, the fewest it held in the last {LowWindow.TotalHours:0} hours," : "";
            return $"the primary folder shrank from {before} to {facts.PrimaryMessages} messages{fewest} while observer was not watching "
                + $"({share:0}% > {options.MaxDeletePercent:0.#}%); {facts.Deletions} deletions on the replica wait: check the primary, then run `observer approve {facts.Folder}`";
        }
        var deleted = 100.0 * facts.Deletions / facts.ReplicaMessages;
        if (deleted <= options.MaxDeletePercent) return null;
        return $"this pass would delete {facts.Deletions} of {facts.ReplicaMessages} messages on the replica that the primary never reported expunged "
            + $"({deleted:0}% > {options.MaxDeletePercent:0.#}%): check the primary, then run `observer approve {facts.Folder}`";
    }

    /// <summary>
    /// The folder's smallest size to remember after a sync that saw <paramref name="messages"/> on the primary.
    /// A smaller size, or a low older than the window, starts afresh; so does a recreated folder, whose old size says nothing.
    /// A low that expires is replaced by today's size, which can only make the guard stricter, never looser.
    /// </summary>
    public static (uint? Low, DateTimeOffset? At) RememberLow(FolderRecord folder, uint uidValidity, uint? messages, DateTimeOffset now)
    {
        if (messages is not { } n) return (folder.PrimaryLow, folder.PrimaryLowAt);
        var fresh = folder.PrimaryUidValidity != uidValidity || RecentLow(folder, now) is not { } low || n <= low;
        return fresh ? (n, now) : (folder.PrimaryLow, folder.PrimaryLowAt);
    }

    /// <summary>The folder's remembered smallest size, if it was seen within <see cref="LowWindow"/> of <paramref name="now"/>.</summary>
    public static uint? RecentLow(FolderRecord folder, DateTimeOffset now) =>
        folder.PrimaryLowAt is { } at && now - at <= LowWindow ? folder.PrimaryLow : null;
}

/// <summary>What the guard weighs for one folder sync.</summary>
/// <param name="Deletions">Replica copies the pass would remove: expunges, and extras the primary does not have.</param>
/// <param name="Witnessed">A watcher reported this folder's changes while live.</param>
/// <param name="Continuous">The primary folder is the one of the checkpoint (same UIDVALIDITY), so its size can be compared.</param>
/// <param name="PrimaryBefore">The primary folder's size at the checkpoint.</param>
/// <param name="PrimaryLow">The fewest messages the primary folder held at a sync within <see cref="DeleteGuard.LowWindow"/>.</param>
internal sealed record GuardFacts(string Folder, int Deletions, uint ReplicaMessages, uint PrimaryMessages, bool Witnessed, bool Continuous, uint? PrimaryBefore = null, uint? PrimaryLow = null);

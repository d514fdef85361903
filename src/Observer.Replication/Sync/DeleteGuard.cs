namespace Observer.Replication;

/// <summary>
/// The safety guard of "primary knows best": a primary that suddenly looks empty (a broken server,
/// a restore gone wrong, the wrong account) must not empty the copy. Ordinary churn must never trip
/// it, so it weighs evidence, not counts alone:
/// <list type="bullet">
/// <item>Expunges a watcher reported while live (NOTIFY, IDLE, or the STATUS poll seconds later) are the
/// user's own: never held. A gap in the watching is covered by the pass that follows every reconnect.</item>
/// <item>Where the folder is the same one as at its checkpoint (same UIDVALIDITY), what matters is how
/// much the primary folder shrank since the checkpoint: a folder whose messages come and go (a POP
/// client, a filter, a busy shared inbox) deletes many but keeps its size. Held when the primary now
/// holds far fewer than it did. (Measured on the primary, not the replica, whose count may still
/// include copies waiting to be removed.)</item>
/// <item>Where there is no such continuity (a first sync into a filled replica, a UIDVALIDITY reset),
/// every deletion is unexplained: held when they are a large share of the replica folder.</item>
/// </list>
/// </summary>
internal static class DeleteGuard
{
    public static string? Check(GuardFacts facts, ReplicationOptions options)
    {
        if (facts.Witnessed || facts.Deletions <= options.MaxDeleteFloor || facts.ReplicaMessages == 0) return null;
        if (facts.Continuous && facts.PrimaryBefore is null or 0) return null;
        if (facts.Continuous && facts.PrimaryBefore is { } before && before > 0)
        {
            var lost = (long)before - facts.PrimaryMessages;
            if (lost <= options.MaxDeleteFloor) return null;
            var share = 100.0 * lost / before;
            if (share <= options.MaxDeletePercent) return null;
            return $"the primary folder shrank from {before} to {facts.PrimaryMessages} messages while observer was not watching "
                + $"({share:0}% > {options.MaxDeletePercent:0.#}%); {facts.Deletions} deletions on the replica wait: check the primary, then run `observer approve {facts.Folder}`";
        }
        var deleted = 100.0 * facts.Deletions / facts.ReplicaMessages;
        if (deleted <= options.MaxDeletePercent) return null;
        return $"this pass would delete {facts.Deletions} of {facts.ReplicaMessages} messages on the replica that the primary never reported expunged "
            + $"({deleted:0}% > {options.MaxDeletePercent:0.#}%): check the primary, then run `observer approve {facts.Folder}`";
    }
}

/// <summary>What the guard weighs for one folder sync.</summary>
/// <param name="Deletions">Replica copies the pass would remove: expunges, and extras the primary does not have.</param>
/// <param name="Witnessed">A watcher reported this folder's changes while live.</param>
/// <param name="Continuous">The primary folder is the one of the checkpoint (same UIDVALIDITY), so its size can be compared.</param>
/// <param name="PrimaryBefore">The primary folder's size at the checkpoint.</param>
internal sealed record GuardFacts(string Folder, int Deletions, uint ReplicaMessages, uint PrimaryMessages, bool Witnessed, bool Continuous, uint? PrimaryBefore = null);

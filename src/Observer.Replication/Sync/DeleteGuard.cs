namespace Observer.Replication;

/// <summary>
/// The safety guard of "primary knows best": one pass may not delete more than MaxDeletePercent of a
/// replica folder (beyond a small floor), so a primary that suddenly looks empty cannot empty the copy.
/// </summary>
internal static class DeleteGuard
{
    public static string? Check(int deletions, uint replicaMessages, ReplicationOptions options)
    {
        if (deletions <= options.MaxDeleteFloor) return null;
        var share = replicaMessages == 0 ? 100.0 : 100.0 * deletions / replicaMessages;
        if (share <= options.MaxDeletePercent) return null;
        return $"this pass would delete {deletions} of {replicaMessages} messages on the replica ({share:0}% > {options.MaxDeletePercent:0.#}%); "
            + "check the primary, then run `observer verify --repair --force` to apply it";
    }
}

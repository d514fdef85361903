namespace Observer.Replication;

/// <summary>
/// The folder half of the delete guard. A primary that suddenly lists few of its folders is more
/// likely broken (the wrong account, a restore gone wrong, a store it cannot read) than emptied on
/// purpose. Counting folders alone mistakes a tidy-up for that: a user who deleted five small folders
/// of nine while observer was busy or away has not lost the mail of the four that hold nearly all of
/// it (seen in a CI run with connection faults). So a vanish is held when it takes most folders
/// and, as the message guard weighs it, more than a floor and a share of the messages too. What
/// counts as kept is the caller's to make strict: only mail the primary shows of what it held before.
/// </summary>
internal static class FolderVanishGuard
{
    /// <param name="vanishing">Folders gone from the primary's list and not already held.</param>
    /// <param name="present">Folders in the state, less those already held.</param>
    /// <param name="countVanishingCopies">Copies on the replica of the messages in <paramref name="vanishing"/>.</param>
    /// <param name="countKeptMessages">Messages the primary still shows of what it held, outside INBOX.</param>
    /// <returns>Why the deletions are held, or null when they are not.</returns>
    /// <remarks>The messages are counted (a query per folder) only when the folders alone do not settle it.</remarks>
    public static string? Check(int vanishing, int present, Func<long> countVanishingCopies, Func<long> countKeptMessages, ReplicationOptions options)
    {
        if (vanishing <= 2 || vanishing * 2 <= present) return null;
        var vanishingCopies = countVanishingCopies();
        if (vanishingCopies <= options.MaxDeleteFloor) return null;
        var share = 100.0 * vanishingCopies / (vanishingCopies + countKeptMessages());
        if (share <= options.MaxDeletePercent) return null;
        return $"{vanishing} of {present} folders vanished from the primary at once, with {vanishingCopies} messages "
            + $"({share:0}% of all, > {options.MaxDeletePercent:0.#}%)";
    }
}

namespace Observer.TestSupport;

/// <summary>What a <see cref="MailboxMutator"/> does, and how often.</summary>
public sealed record MutationProfile(IReadOnlyList<(string Action, double Weight)> Weights, bool VariedMessages, bool VariedFolders)
{
    /// <summary>
    /// The original mix: one message at a time, ordinary messages, flat "Mutant.F…" folders. Used by
    /// the fault tests and the benchmark's incremental phase.
    /// </summary>
    public static MutationProfile Classic { get; } = new(
        [("append", 30), ("flags", 30), ("expunge", 12), ("move", 15), ("create", 6), ("rename", 4), ("delete", 3)],
        VariedMessages: false, VariedFolders: false);

    /// <summary>
    /// A user of the randomized convergence test: messages of every size and shape, system flags and
    /// keywords on one or many messages, expunges and moves of a few messages, and folders created
    /// (nested, non-ASCII), renamed, deleted, or emptied by moves and then deleted. Folder changes
    /// are rarer, as for a person: at the rate of message changes, most folders would vanish within
    /// observer's folder-deletion delay, which its guard rightly takes for a disaster.
    /// </summary>
    public static MutationProfile Convergence { get; } = new(
        [("append", 28), ("flags", 28), ("expunge", 12), ("move", 18), ("create", 4), ("rename", 3), ("delete", 1.5), ("evacuate", 1.5)],
        VariedMessages: true, VariedFolders: true);

    public string Choose(Random random)
    {
        var roll = random.NextDouble() * Weights.Sum(w => w.Weight);
        foreach (var (action, weight) in Weights)
        {
            if (roll < weight) return action;
            roll -= weight;
        }
        throw new InvalidOperationException("unreachable");
    }
}

using Observer.Commands;
using Observer.Replication;
using Observer.State;

namespace Observer.Monitoring;

/// <summary>What a delayed replica holds back for its delay, and when each is applied: for `observer status`.</summary>
public sealed record DelayedWork(TimeSpan Delay, IReadOnlyList<(string Folder, int Count, DateTimeOffset Due)> Expunges,
    IReadOnlyList<(string Folder, DateTimeOffset Due)> FolderDeletions, IReadOnlyList<(string Folder, int Count, DateTimeOffset Due)> FlagRemovals)
{
    public static DelayedWork Read(StateStore store, ReplicaRecord replica)
    {
        if (replica.Mode != "delayed" || replica.DelaySeconds <= 0) return new(TimeSpan.Zero, [], [], []);
        var delay = TimeSpan.FromSeconds(replica.DelaySeconds);
        return new(delay,
            store.Messages.OldestVanished(replica.Id).Select(v => (v.Folder, v.Count, v.Oldest + delay)).OrderBy(v => v.Item3).ToList(),
            store.Folders.All(replica.Id).Where(f => f.GoneSince is not null).Select(f => (f.PrimaryName, f.GoneSince!.Value + delay)).OrderBy(f => f.Item2).ToList(),
            store.HeldFlags.Oldest(replica.Id).Select(h => (h.Folder, h.Count, h.Oldest + delay)).OrderBy(h => h.Item3).ToList());
    }

    /// <summary>One line, or null when nothing is held.</summary>
    public string? Summary()
    {
        if (Expunges.Count == 0 && FolderDeletions.Count == 0 && FlagRemovals.Count == 0) return null;
        var parts = new List<string>();
        if (Expunges.Count > 0) parts.Add($"{Expunges.Sum(e => e.Count)} expunges in {Expunges.Count} folder{(Expunges.Count == 1 ? "" : "s")}");
        if (FolderDeletions.Count > 0) parts.Add($"{FolderDeletions.Count} folder deletion{(FolderDeletions.Count == 1 ? "" : "s")}");
        if (FlagRemovals.Count > 0) parts.Add($"{FlagRemovals.Sum(f => f.Count)} flag removal{(FlagRemovals.Sum(f => f.Count) == 1 ? "" : "s")} in {FlagRemovals.Count} folder{(FlagRemovals.Count == 1 ? "" : "s")}");
        var next = Expunges.Select(e => e.Due).Concat(FolderDeletions.Select(f => f.Due)).Concat(FlagRemovals.Select(f => f.Due)).Min();
        return $"delayed {ReplicaTarget.Describe(Delay)}: {string.Join(", ", parts)} held, the next at {StatusCommand.Format(next)}";
    }
}

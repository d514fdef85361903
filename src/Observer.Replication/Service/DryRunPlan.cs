namespace Observer.Replication;

/// <summary>
/// What a sync (or verify --repair) would write to the replica, from a comparison of both servers, and nothing written:
/// `observer sync --dry-run`. A replica that keeps what the primary deleted (an archive, a delayed replica) keeps it here too.
/// </summary>
public sealed class DryRunPlan
{
    public sealed record FolderPlan(string Folder, bool Create, int Copy, long CopyBytes, int Flags, int Expunge, int Kept, bool MayBeHeld);

    public List<FolderPlan> Folders { get; } = [];

    /// <summary>Replica folders the primary does not have, which the command deletes, with their message counts.</summary>
    public List<(string Folder, uint Messages)> Deletions { get; } = [];

    /// <summary>Replica folders the primary does not have that the command leaves, and why.</summary>
    public List<(string Folder, uint Messages, string Why)> Left { get; } = [];

    public bool Empty => Folders.Count == 0 && Deletions.Count == 0;

    /// <param name="repair">verify --repair's plan rather than sync's: it deletes replica-only folders sync does not know.</param>
    /// <param name="replicated">Replica folder names the state knows as copies of primary folders: those a sync deletes once the primary has.</param>
    public static DryRunPlan From(VerifyReport report, ReplicaTarget policy, ReplicationOptions options, bool repair, bool force, IReadOnlySet<string> replicated)
    {
        var plan = new DryRunPlan();
        foreach (var folder in report.Folders.Where(f => !f.Identical))
        {
            // A mirror removes what only the replica holds; an archive or a delayed replica keeps it.
            var expunge = policy.ToleratesExtras ? 0 : folder.ExtraOnReplica.Count;
            var kept = policy.ToleratesExtras ? folder.ExtraOnReplica.Count : 0;
            // The delete guard judges a pass by the share of the folder it would delete; past it, a sync holds them.
            var mayBeHeld = expunge > options.MaxDeleteFloor && folder.ReplicaCount > 0 && 100.0 * expunge / folder.ReplicaCount > options.MaxDeletePercent;
            var entry = new FolderPlan(folder.Folder, folder.ReplicaFolderMissing, folder.MissingOnReplica.Count, folder.MissingOnReplica.Sum(m => m.Size),
                folder.FlagMismatches.Count(), expunge, kept, mayBeHeld);
            if (entry.Create || entry.Copy + entry.Flags + entry.Expunge > 0) plan.Folders.Add(entry);
        }
        foreach (var (folder, messages) in report.ReplicaOnlyFolders)
        {
            if (repair && !force && messages > options.MaxDeleteFloor)
                plan.Left.Add((folder, messages, $"more than Replication:MaxDeleteFloor ({options.MaxDeleteFloor}) messages; --force deletes it"));
            else if (!repair && !replicated.Contains(folder))
                plan.Left.Add((folder, messages, "not a copy Observer made; sync leaves it (verify --repair deletes it)"));
            else plan.Deletions.Add((folder, messages));
        }
        return plan;
    }
}

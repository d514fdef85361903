using Observer.Replication;

namespace Observer.Commands;

/// <summary>
/// `observer sync --dry-run` and `observer verify --repair --dry-run`: what would be created, copied, changed, expunged
/// and deleted on the replica, per folder, and nothing written. Exit 0 when there is nothing to do, 1 when there is.
/// </summary>
public static class DryRunCommand
{
    public static async Task<int> RunAsync(ReplicationEngine engine, bool repair, bool force, TextWriter output, CancellationToken cancellationToken)
    {
        var verb = repair ? "verify --repair" : "sync";
        var plan = await engine.PlanAsync(repair, force, cancellationToken);
        var width = Math.Max(20, plan.Folders.Select(f => f.Folder.Length).Concat(plan.Deletions.Select(d => d.Folder.Length)).Concat(plan.Left.Select(l => l.Folder.Length))
            .DefaultIfEmpty(0).Max() + 2);
        foreach (var folder in plan.Folders)
        {
            var parts = new List<string>();
            if (folder.Create) parts.Add("create the folder");
            if (folder.Copy > 0) parts.Add($"copy {Counted.Of(folder.Copy, "message")} ({Bytes(folder.CopyBytes)})");
            if (folder.Flags > 0) parts.Add($"change the flags of {Counted.Of(folder.Flags, "message")}");
            if (folder.Expunge > 0) parts.Add($"expunge {Counted.Of(folder.Expunge, "message")}" + (folder.MayBeHeld ? " (more than Replication:MaxDeletePercent: a sync may hold them for approval)" : ""));
            if (folder.Kept > 0) parts.Add($"keep {folder.Kept} only on the replica (this replica's policy)");
            await output.WriteLineAsync($"{folder.Folder.PadRight(width)}{string.Join(", ", parts)}");
        }
        foreach (var (folder, messages) in plan.Deletions)
            await output.WriteLineAsync($"{folder.PadRight(width)}delete the folder, only on the replica ({Counted.Of((int)messages, "message")})");
        foreach (var (folder, messages, why) in plan.Left)
            await output.WriteLineAsync($"{folder.PadRight(width)}left alone, only on the replica ({Counted.Of((int)messages, "message")}): {why}");
        if (plan.Empty)
        {
            await output.WriteLineAsync($"dry run: nothing for {verb} to do{(plan.Left.Count == 0 ? "; the replica matches the primary" : "")}. Nothing was written");
            return 0;
        }
        var totals = new List<string>();
        var created = plan.Folders.Count(f => f.Create);
        if (created > 0) totals.Add($"create {Counted.Of(created, "folder")}");
        var copies = plan.Folders.Sum(f => f.Copy);
        if (copies > 0) totals.Add($"copy {Counted.Of(copies, "message")} ({Bytes(plan.Folders.Sum(f => f.CopyBytes))})");
        var flags = plan.Folders.Sum(f => f.Flags);
        if (flags > 0) totals.Add($"change the flags of {Counted.Of(flags, "message")}");
        var expunges = plan.Folders.Sum(f => f.Expunge);
        if (expunges > 0) totals.Add($"expunge {Counted.Of(expunges, "message")}");
        if (plan.Deletions.Count > 0) totals.Add($"delete {Counted.Of(plan.Deletions.Count, "folder")}");
        await output.WriteLineAsync($"dry run: {verb} would {(totals.Count == 0 ? "keep what only the replica holds" : string.Join(", ", totals))} on the replica. Nothing was written");
        return 1;
    }

    private static string Bytes(long bytes) => Progress.ProgressFigures.Size(bytes);
}

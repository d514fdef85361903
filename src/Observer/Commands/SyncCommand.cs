using Observer.Replication;

namespace Observer.Commands;

/// <summary>`observer sync`: one pass; exit 0 when every folder matches the primary as of the pass.</summary>
public static class SyncCommand
{
    public static async Task<int> RunAsync(ReplicationEngine engine, bool full, TextWriter output, CancellationToken cancellationToken)
    {
        var pass = await engine.SyncOnceAsync(full, cancellationToken);
        var width = Math.Max(20, pass.Folders.Select(f => f.Folder.Length).DefaultIfEmpty(0).Max() + 2);
        foreach (var folder in pass.Folders)
        {
            var what = folder.Outcome switch
            {
                FolderOutcome.Held => "HELD: " + folder.Summary(),
                FolderOutcome.Incomplete => "INCOMPLETE: " + folder.Summary(),
                FolderOutcome.Failed => "FAILED: " + folder.Message,
                FolderOutcome.Unchanged => "up to date",
                _ => folder.Summary(),
            };
            await output.WriteLineAsync($"{folder.Folder.PadRight(width)}{what}");
        }
        foreach (var (folder, problem) in pass.TreeProblems)
            await output.WriteLineAsync($"{folder.PadRight(width)}NOT REPLICATED: {problem}");
        var bad = pass.Folders.Count(f => f.Outcome is FolderOutcome.Held or FolderOutcome.Failed or FolderOutcome.Incomplete) + pass.TreeProblems.Count;
        var total = pass.Folders.Count + pass.TreeProblems.Count;
        await output.WriteLineAsync(pass.Converged
            ? $"sync: the replica matches the primary ({Counted.Of(pass.Folders.Count, "folder")}; {pass.Summary()})"
            : $"sync: {bad} of {Counted.Of(total, "folder")} {(bad == 1 ? "does" : "do")} not match the primary");
        return pass.Converged ? 0 : 1;
    }
}

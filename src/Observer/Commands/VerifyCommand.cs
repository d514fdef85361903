using Observer.Replication;

namespace Observer.Commands;

/// <summary>`observer verify [--repair] [--force]`: exit 0 when both servers hold the same messages, flags and dates.</summary>
public static class VerifyCommand
{
    public static async Task<int> RunAsync(ReplicationEngine engine, bool repair, bool force, TextWriter output, CancellationToken cancellationToken)
    {
        var (before, after) = await engine.VerifyAsync(repair, force, cancellationToken);
        await WriteAsync(before, output, repair && after is not null ? "before repair" : null);
        if (after is not null)
        {
            await output.WriteLineAsync();
            await WriteAsync(after, output, "after repair");
        }
        var final = after ?? before;
        await output.WriteLineAsync(final.Identical
            ? $"verify: identical ({Counted.Of(final.Folders.Sum(f => f.PrimaryCount), "message")} in {Counted.Of(final.Folders.Count, "folder")})"
            : $"verify: the replica differs from the primary in {Counted.Of(final.Folders.Count(f => !f.Identical) + final.ReplicaOnlyFolders.Count, "folder")}"
              + (repair ? (force ? "" : "; some changes may need --force") : "; run `observer verify --repair` to fix it"));
        return final.Identical ? 0 : 1;
    }

    private static async Task WriteAsync(VerifyReport report, TextWriter output, string? title)
    {
        if (title is not null) await output.WriteLineAsync($"-- {title}");
        var width = Math.Max(20, report.Folders.Select(f => f.Folder.Length).DefaultIfEmpty(0).Max() + 2);
        foreach (var folder in report.Folders)
        {
            await output.WriteLineAsync($"{folder.Folder.PadRight(width)}{(folder.Identical ? "ok: " : "DIFFERS: ")}{folder.Describe()}");
            foreach (var m in folder.MissingOnReplica.Take(5))
                await output.WriteLineAsync($"  missing on replica: primary uid {m.Uid} ({m.Size} bytes, {m.MessageId ?? "no Message-ID"})");
            foreach (var m in folder.ExtraOnReplica.Take(5))
                await output.WriteLineAsync($"  only on replica:    replica uid {m.Uid} ({m.Size} bytes, {m.MessageId ?? "no Message-ID"})");
            foreach (var (p, r) in folder.FlagMismatches.Take(5))
                await output.WriteLineAsync($"  flags differ:       primary uid {p.Uid} ({p.Flags}) vs replica uid {r.Uid} ({r.Flags})");
        }
        foreach (var (folder, messages) in report.ReplicaOnlyFolders)
            await output.WriteLineAsync($"{folder.PadRight(width)}DIFFERS: folder only on the replica ({messages} messages)");
        foreach (var (folder, messages) in report.KeptFolders)
            await output.WriteLineAsync($"{folder.PadRight(width)}kept: deleted on the primary, kept by this replica's policy ({messages} messages)");
    }
}

using Observer.Replication;

namespace Observer.Commands;

/// <summary>`observer restore --from REPLICA [--folder FOLDER] [--since TIME]`: what was copied back to the primary, per folder.</summary>
public static class RestoreCommand
{
    public static async Task<int> RunAsync(ReplicationEngine engine, string? folder, DateTimeOffset? since, TextWriter output, CancellationToken cancellationToken)
    {
        var report = await engine.RestoreAsync(folder, since, cancellationToken);
        foreach (var (name, messages, created) in report.Folders)
            await output.WriteLineAsync($"{name}: {messages} message{(messages == 1 ? "" : "s")} copied back{(created ? " (the folder was created again)" : "")}");
        await output.WriteLineAsync(report.Messages == 0
            ? $"restore: the primary already has every message the replica holds{(folder is null ? "" : $" in {folder}")}{(since is null ? "" : $" since {since:yyyy-MM-dd HH:mm}")}; nothing copied"
            : $"restore: {report.Messages} message{(report.Messages == 1 ? "" : "s")} copied back to the primary in {report.Folders.Count} folder{(report.Folders.Count == 1 ? "" : "s")}; the replicas follow as for new mail");
        return 0;
    }
}

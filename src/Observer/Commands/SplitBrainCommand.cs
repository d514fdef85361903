using Observer.Hosting;
using Observer.Replication;
using Observer.State;

namespace Observer.Commands;

/// <summary>
/// `observer report split-brain`: after a promotion, what exists on one side only since the failover point, per server that
/// followed the old primary and per folder. Reads both servers and writes to neither. Exit 1 when there is something to report.
/// </summary>
public static class SplitBrainCommand
{
    /// <summary>Messages listed per folder and kind; the rest are counted.</summary>
    private const int MostListed = 50;

    public static async Task<int> RunAsync(IReadOnlyList<AccountEngine> units, TextWriter output, CancellationToken cancellationToken)
    {
        var compared = 0;
        var findings = false;
        foreach (var unit in units)
        {
            var label = unit.Name.Length == 0 ? unit.Engine.Replica.Name : $"account {unit.Name}, {unit.Engine.Replica.Name}";
            SplitBrainReport? report;
            try
            {
                report = await unit.Engine.SplitBrainReportAsync(cancellationToken);
            }
            catch (Exception ex) when (ObserverErrors.IsUserFacing(ex) && ex is not StateException)
            {
                await output.WriteLineAsync($"{label}: FAILED: {ex.Message.ReplaceLineEndings(" ")}");
                findings = true;
                continue;
            }
            if (report is null) continue;
            compared++;
            findings |= report.HasFindings;
            await WriteAsync(label, report, output);
        }
        if (compared == 0)
        {
            await output.WriteLineAsync(findings
                ? "report: nothing could be compared (above); run it again once the servers answer"
                : "report: no promotion concerns these replicas (observer promote records one); nothing to compare");
            return findings ? 1 : 0;
        }
        await output.WriteLineAsync(findings
            ? "report: some mail exists on one side only since the failover (above). Nothing is written to a server before its comparison, which copies " +
              "what only it holds to the new primary; on the old primary, mail the new primary never had is copied back rather than removed, always"
            : "report: nothing exists on one side only since the failover");
        return findings ? 1 : 0;
    }

    private static async Task WriteAsync(string label, SplitBrainReport report, TextWriter output)
    {
        var failover = report.Check.Failover;
        var newPrimary = failover.NewPrimary;
        var server = report.Check.Server;
        await output.WriteLineAsync($"{label}: failover from {failover.OldPrimary} to {newPrimary} at {failover.PromotedAt.ToLocalTime():yyyy-MM-dd HH:mm:ss}{(failover.Forced ? " (forced)" : "")}; " +
                                    (report.Check.ReconciledAt is { } at ? $"{server} compared and copied back at {at.ToLocalTime():yyyy-MM-dd HH:mm:ss}" : $"{server} not compared yet: nothing has been written to it since"));
        foreach (var folder in report.Folders.Where(f => f.HasFindings))
        {
            var note = folder switch
            {
                { MissingOnNew: true, CreatedSince: true } => $" (created on {server} since the failover)",
                { MissingOnNew: true } => $" (deleted on {newPrimary} since the failover)",
                { MissingOnServer: true, CreatedSince: true } => $" (created on {newPrimary} since the failover)",
                { MissingOnServer: true } => $" (deleted on {server} since the failover; {newPrimary}'s stays)",
                _ => "",
            };
            await output.WriteLineAsync($"  {folder.Folder}{note}");
            await ListAsync($"only on {server}", folder.OnlyOnServer, output);
            await ListAsync($"only on {newPrimary}", folder.OnlyOnNew, output);
            foreach (var c in folder.FlagConflicts.Take(MostListed))
                await output.WriteLineAsync($"    flags changed on {server}: {Describe(c.OnOld)}: ({c.OnOld.Flags}) there, ({c.OnNew}) on {newPrimary}, ({c.AtFailover}) at the failover; {newPrimary}'s kept");
            if (folder.FlagConflicts.Count > MostListed) await output.WriteLineAsync($"    and {folder.FlagConflicts.Count - MostListed} more flag changes");
        }
        if (report.Copied.Count > 0)
        {
            await output.WriteLineAsync($"  copied back from {server} to {newPrimary}: {report.Copied.Count} message{(report.Copied.Count == 1 ? "" : "s")}");
            foreach (var c in report.Copied.Take(MostListed))
                await output.WriteLineAsync($"    {c.Folder}: {c.InternalDate?.ToLocalTime():yyyy-MM-dd HH:mm}  {c.Sender ?? "(no sender)"}  \"{c.Subject ?? "(no subject)"}\"  {c.Size} bytes");
            if (report.Copied.Count > MostListed) await output.WriteLineAsync($"    and {report.Copied.Count - MostListed} more");
        }
        if (!report.HasFindings) await output.WriteLineAsync($"  nothing on one side only: {server} and {newPrimary} agree since the failover");
    }

    private static async Task ListAsync(string title, List<SplitBrainMessage> messages, TextWriter output)
    {
        foreach (var m in messages.Take(MostListed)) await output.WriteLineAsync($"    {title}: {Describe(m)}, {m.Size} bytes");
        if (messages.Count > MostListed) await output.WriteLineAsync($"    {title}: and {messages.Count - MostListed} more");
    }

    private static string Describe(SplitBrainMessage m) =>
        $"{m.InternalDate?.ToLocalTime():yyyy-MM-dd HH:mm}  {m.Sender ?? "(no sender)"}  \"{m.Subject ?? "(no subject)"}\"";
}

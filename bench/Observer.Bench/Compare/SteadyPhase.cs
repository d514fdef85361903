using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>
/// Phase 5: a tool in its watch mode over an account with many folders where nothing happens:
/// its CPU per minute, the servers' CPU per minute, its memory and the connections it holds.
/// </summary>
internal sealed class SteadyPhase(BenchServers servers, CompareOptions options, BenchResults results)
{
    /// <summary>An account with <paramref name="folders"/> folders of two small messages each, in groups of 50.</summary>
    public static async Task<TestAccount> BuildTemplateAsync(DovecotServer primary, int folders)
    {
        var account = await primary.NewAccountAsync();
        await using var client = await primary.ConnectUserAsync(account);
        for (var i = 0; i < folders; i++)
        {
            var name = $"Team{i / 50:00}.Box{i:0000}";
            await client.CreateAsync(name);
            await client.MultiAppendAsync(name, [MailFactory.Message($"box {i} first"), MailFactory.Message($"box {i} second", new MessageFlags(["\\Seen"]))]);
        }
        return account;
    }

    public async Task RunAsync(SyncTool tool, TestAccount template)
    {
        var accounts = await servers.CloneAsync(template);
        var work = Directory.CreateTempSubdirectory($"bench-steady-{tool.Id}-").FullName;
        try
        {
            await using var live = LiveRun.Start(tool.Watch(accounts, work)!);
            var first = await ReplicaCheck.WaitConvergedAsync(accounts, options.RunTimeout, () => !live.HasExited, presentOnly: true);
            if (first is null)
            {
                var why = live.HasExited ? $"exited: {LagPhase.LastLine(live.Output)}" : $"not caught up within {options.RunTimeout.TotalMinutes:0} min";
                results.Steady.Add(new SteadyResult(tool.Name, tool.WatchNote, options.SteadyFolders, null, 0, 0, live.PeakRss, 0, why));
                Console.Error.WriteLine($"  steady {tool.Name}: {why}");
                return;
            }
            // Let the first pass's tail (and the comparison's own sessions) die down.
            await Task.Delay(TimeSpan.FromSeconds(10));
            var server = new ServerCpu(servers.Pair);
            var (tool0, server0) = (live.CpuSeconds, server.Seconds);
            await Task.Delay(options.SteadyWindow);
            var minutes = options.SteadyWindow.TotalMinutes;
            var result = new SteadyResult(tool.Name, tool.WatchNote, options.SteadyFolders, first, (live.CpuSeconds - tool0) / minutes,
                (server.Seconds - server0) / minutes, live.Rss, live.ConnectionsTo(servers.Primary.Port, servers.Replica.Port),
                live.HasExited ? $"exited: {LagPhase.LastLine(live.Output)}" : null);
            results.Steady.Add(result);
            Console.Error.WriteLine($"  steady {tool.Name,-22} first sync {first:0.0} s, cpu {result.ToolCpuPerMinute:0.00} s/min (servers {result.ServerCpuPerMinute:0.00}), "
                + $"rss {result.Rss / 1048576.0:0} MB, {result.Connections} connections");
        }
        finally
        {
            BenchServers.Drop(accounts);
            Directory.Delete(work, recursive: true);
        }
    }
}

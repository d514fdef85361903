using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>
/// Phase 4: a tool in its watch mode on a clone of the small corpus. Another client appends to
/// INBOX on the primary, then flags those messages, one at a time; each is timed until the replica
/// shows it. Then nothing happens for a while, and the CPU that costs is measured on both sides.
/// </summary>
internal sealed class LagPhase(BenchServers servers, CompareOptions options, BenchResults results)
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(60);
    private const int MaxLost = 5;

    /// <param name="filled">A primary account of its own, filled over IMAP (see <see cref="BenchServers.AccountsAsync"/>).</param>
    public async Task RunAsync(SyncTool tool, TestAccount filled)
    {
        var accounts = await servers.AccountsAsync(filled);
        var work = Directory.CreateTempSubdirectory($"bench-lag-{tool.Id}-").FullName;
        var appends = new List<double>();
        var flags = new List<double>();
        var lost = 0;
        try
        {
            await using var live = LiveRun.Start(tool.Watch(accounts, work)!);
            if (await ReplicaCheck.WaitConvergedAsync(accounts, options.RunTimeout, () => !live.HasExited, presentOnly: true) is null)
            {
                Fail(tool, live.HasExited ? $"exited: {LastLine(live.Output)}" : "never caught up with the primary");
                return;
            }
            await Task.Delay(TimeSpan.FromSeconds(5));

            await using (var primary = await accounts.PrimaryClientAsync())
            await using (var replica = await accounts.ReplicaClientAsync())
            {
                var probe = await LagProbe.OpenAsync(primary, replica, "INBOX");
                var random = new Random(options.Seed);
                var ids = new List<string>();
                for (var i = 0; i < options.LagProbes && lost < MaxLost; i++)
                {
                    var id = $"<lag-{i}-{Guid.NewGuid():N}@bench.example.com>";
                    var message = new AppendMessage(ImapLiteral.FromString($"From: lag@example.com\r\nSubject: lag probe {i}\r\nMessage-ID: {id}\r\n\r\nprobe\r\n"));
                    try
                    {
                        appends.Add(await probe.AppendAsync(message, id, ProbeTimeout));
                        ids.Add(id);
                    }
                    catch (BenchException)
                    {
                        lost++;
                    }
                    // Spread the samples over the servers' notification cycles instead of locking onto them.
                    await Task.Delay(random.Next(50, 400));
                }
                foreach (var id in ids.TakeWhile(_ => lost < MaxLost))
                {
                    var uid = (await primary.UidSearchAsync(SearchQuery.Header("Message-ID", id))).Expand().Single();
                    try
                    {
                        flags.Add(await probe.FlagAsync(uid, id, MessageFlags.Flagged, ProbeTimeout));
                    }
                    catch (BenchException)
                    {
                        lost++;
                    }
                    await Task.Delay(random.Next(50, 400));
                }
            }

            var server = new ServerCpu(servers.Pair);
            var (tool0, server0) = (live.CpuSeconds, server.Seconds);
            await Task.Delay(options.IdleWindow);
            var minutes = options.IdleWindow.TotalMinutes;
            results.Lag.Add(new LagResult(tool.Name, tool.WatchNote, appends, flags, lost,
                (live.CpuSeconds - tool0) / minutes, (server.Seconds - server0) / minutes, live.PeakRss, lost >= MaxLost ? $"{lost} changes never arrived within {ProbeTimeout.TotalSeconds:0} s" : null));
            var r = results.Lag[^1];
            Console.Error.WriteLine($"  lag {tool.Name,-22} append median {Stats.Percentile(appends, 50):0.000} s, flag median {Stats.Percentile(flags, 50):0.000} s, "
                + $"lost {lost}, idle cpu {r.ToolIdleCpuPerMinute:0.00} s/min (servers {r.ServerIdleCpuPerMinute:0.00})");
        }
        finally
        {
            BenchServers.Drop(accounts);
            Directory.Delete(work, recursive: true);
        }
    }

    private void Fail(SyncTool tool, string why)
    {
        results.Lag.Add(new LagResult(tool.Name, tool.WatchNote, [], [], 0, 0, 0, 0, why));
        Console.Error.WriteLine($"  lag {tool.Name}: {why}");
    }

    internal static string LastLine(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "no output";
}

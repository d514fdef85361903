using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>
/// Phases 1-3 for one tool on one clone of a corpus: the initial copy into an empty replica, a
/// no-op re-run, and an incremental run after the seeded mutations. Each is one whole process.
/// </summary>
internal sealed class CopyPhases(BenchServers servers, CompareOptions options, BenchResults results)
{
    public async Task RunAsync(SyncTool tool, string corpus, Observer.TestSupport.TestAccount template, int run)
    {
        var accounts = await servers.CloneAsync(template);
        var work = Directory.CreateTempSubdirectory($"bench-{tool.Id}-").FullName;
        try
        {
            var (initial, initialServers) = await MeasuredAsync(tool.OneShot(accounts, work));
            var check = initial.TimedOut ? null : await ReplicaCheck.CompareAsync(accounts);
            Record(corpus, "initial", tool, run, initial, initialServers, check);
            if (!initial.Succeeded || !tool.SupportsIncremental) return;

            if (options.Has("noop"))
            {
                var (noop, noopServers) = await MeasuredAsync(tool.OneShot(accounts, work));
                Record(corpus, "noop", tool, run, noop, noopServers, null);
            }
            if (options.Has("incremental"))
            {
                await Mutations.ApplyAsync(accounts, options.Mutations, options.Seed + run);
                var (incremental, incrementalServers) = await MeasuredAsync(tool.OneShot(accounts, work));
                Record(corpus, "incremental", tool, run, incremental, incrementalServers, incremental.TimedOut ? null : await ReplicaCheck.CompareAsync(accounts));
            }
        }
        finally
        {
            BenchServers.Drop(accounts);
            Directory.Delete(work, recursive: true);
        }
    }

    private async Task<(TimedResult Result, double ServerCpuSeconds)> MeasuredAsync(ProcessSpec spec)
    {
        var cpu = new ServerCpu(servers.Pair);
        var before = cpu.Seconds;
        var result = await TimedRun.RunAsync(spec, options.RunTimeout);
        return (result, cpu.Seconds - before);
    }

    private void Record(string corpus, string phase, SyncTool tool, int run, TimedResult result, double serverCpu, Exactness? check)
    {
        results.Copies.Add(new CopyRun(corpus, phase, tool.Name, run, result, check, serverCpu));
        var outcome = result.Succeeded ? $"{result.WallSeconds:0.00} s, cpu {result.CpuSeconds:0.0} s (servers {serverCpu:0.0} s), rss {result.PeakRss / 1048576.0:0} MB" : result.Failure;
        Console.Error.WriteLine($"  {corpus} {phase,-11} run {run} {tool.Name,-18} {outcome}{(check is null ? "" : $", {check}")}");
        if (!result.Succeeded) Console.Error.WriteLine("    its output ended with:\n" + result.OutputTail.TrimEnd());
    }
}

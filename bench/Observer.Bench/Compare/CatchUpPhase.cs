using System.Diagnostics;
using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>
/// Phase 6: changes pile up on the primary while the replica is away, then the replica comes back.
/// Observer's service is measured live: it runs throughout, with the replica behind a proxy that
/// drops every connection and refuses new ones during the outage; the clock runs from the
/// replica's return to an identical copy, reconnect backoff included. Every tool, Observer too, is
/// also measured as a one-shot run over the changes, which is how a tool without a service catches up.
/// </summary>
internal sealed class CatchUpPhase(BenchServers servers, CompareOptions options, BenchResults results)
{
    public async Task OneShotAsync(SyncTool tool, TestAccount template)
    {
        var accounts = await servers.CloneAsync(template);
        var work = Directory.CreateTempSubdirectory($"bench-catchup-{tool.Id}-").FullName;
        try
        {
            var initial = await TimedRun.RunAsync(tool.OneShot(accounts, work), options.RunTimeout);
            if (!initial.Succeeded)
            {
                Record(new CatchUpResult(tool.Name, "one-shot run", options.CatchUpChanges, null, null, $"initial copy failed: {initial.Failure}"));
                return;
            }
            await Mutations.ApplyAsync(accounts, options.CatchUpChanges, options.Seed + 1000);
            var run = await TimedRun.RunAsync(tool.OneShot(accounts, work), options.RunTimeout);
            var check = run.TimedOut ? null : await ReplicaCheck.CompareAsync(accounts);
            Record(new CatchUpResult(tool.Name, "one-shot run", options.CatchUpChanges, run.Succeeded ? run.WallSeconds : null, check, run.Succeeded ? null : run.Failure));
        }
        finally
        {
            BenchServers.Drop(accounts);
            Directory.Delete(work, recursive: true);
        }
    }

    public async Task LiveAsync(ObserverTool tool, TestAccount template)
    {
        var accounts = await servers.CloneAsync(template);
        var work = Directory.CreateTempSubdirectory("bench-catchup-live-").FullName;
        await using var proxy = FaultProxy.Start(servers.Replica.Host, servers.Replica.Port);
        try
        {
            await using var live = LiveRun.Start(tool.Watch(accounts, work, replicaPort: proxy.Port));
            if (await ReplicaCheck.WaitConvergedAsync(accounts, options.RunTimeout, () => !live.HasExited) is null)
            {
                Record(new CatchUpResult(tool.Name, "service, replica away", options.CatchUpChanges, null, null, "never caught up before the outage"));
                return;
            }
            proxy.RefuseFor(TimeSpan.FromHours(1));
            proxy.CutAll();
            var outage = Stopwatch.StartNew();
            await Mutations.ApplyAsync(accounts, options.CatchUpChanges, options.Seed + 1000);
            proxy.RefuseFor(TimeSpan.Zero);
            var seconds = await ReplicaCheck.WaitConvergedAsync(accounts, options.RunTimeout, () => !live.HasExited);
            var check = seconds is null ? null : await ReplicaCheck.CompareAsync(accounts);
            Record(new CatchUpResult(tool.Name, $"service, replica away {outage.Elapsed.TotalSeconds:0} s", options.CatchUpChanges, seconds, check,
                seconds is null ? "did not catch up" : null));
        }
        finally
        {
            BenchServers.Drop(accounts);
            Directory.Delete(work, recursive: true);
        }
    }

    private void Record(CatchUpResult result)
    {
        results.CatchUp.Add(result);
        Console.Error.WriteLine($"  catch-up {result.Tool,-18} {result.Mode}: {(result.Seconds is { } s ? $"{s:0.00} s" : result.Failure)}{(result.Check is null ? "" : $", {result.Check}")}");
    }
}

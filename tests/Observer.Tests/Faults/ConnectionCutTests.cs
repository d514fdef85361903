using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>Fault 1: connections cut at random points, stalled and refused, while observer runs.</summary>
[NonParallelizable]
public class ConnectionCutTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-cuts-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task RandomCutsStallsAndRefusals_DuringSyncAndLiveChanges_EndIdenticalWithoutDuplicates()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        var folders = new[] { "INBOX", "Archive.2025", "Projects", "Caf\u00e9" };
        await using (var filler = await accounts.PrimaryClientAsync())
        {
            await MailFactory.FillAsync(filler, "INBOX", 1000);
            await MailFactory.FillAsync(filler, "Archive.2025", 600);
            await MailFactory.FillAsync(filler, "Projects", 300);
            await MailFactory.FillAsync(filler, "Caf\u00e9", 100);
        }
        await using var primaryProxy = FaultProxy.Start(PairFixture.Pair.Primary.Host, PairFixture.Pair.Primary.Port);
        await using var replicaProxy = FaultProxy.Start(PairFixture.Pair.Replica.Host, PairFixture.Pair.Replica.Port);
        var random = new Random(4242);
        var proxies = new[] { primaryProxy, replicaProxy };
        // A third of new connections is cut after a random number of bytes in a random direction:
        // with messages streaming, that is often in the middle of a literal.
        foreach (var proxy in proxies)
        {
            var planRandom = new Random(random.Next());
            proxy.CutPlan = () =>
            {
                lock (planRandom)
                    return planRandom.Next(3) == 0
                        ? (planRandom.Next(2) == 0 ? FlowDirection.ServerToClient : FlowDirection.ClientToServer, planRandom.Next(500, 400_000))
                        : null;
            };
        }

        await using var observer = ObserverProcess.Start("run", FaultSettings.For(accounts, Path.Combine(_dir, "state.db"), primaryProxy, replicaProxy), _dir);
        using var stopChaos = new CancellationTokenSource();
        var chaos = Task.Run(async () =>
        {
            while (!stopChaos.IsCancellationRequested)
            {
                await Task.Delay(random.Next(100, 400));
                var proxy = proxies[random.Next(2)];
                switch (random.Next(10))
                {
                    case < 5: proxy.CutOne(random); break;
                    case 5: proxy.StallFor(TimeSpan.FromMilliseconds(random.Next(500, 2500))); break;
                    case 6: proxy.RefuseFor(TimeSpan.FromMilliseconds(random.Next(300, 1500))); break;
                }
            }
        });

        await using (var user = await accounts.PrimaryClientAsync())
        {
            var mutator = new MailboxMutator(user, 77, folders);
            while (mutator.Total < 500)
            {
                await mutator.MutateOrCarryOnAsync();
                await Task.Delay(random.Next(0, 60));
            }
            foreach (var refusal in mutator.Refusals) await TestContext.Out.WriteLineAsync("refused by the server: " + refusal);
        }
        await Eventually.HoldsAsync(() => Task.FromResult(primaryProxy.Cuts + replicaProxy.Cuts >= 50), TimeSpan.FromMinutes(2));
        await stopChaos.CancelAsync();
        await chaos;
        foreach (var proxy in proxies) proxy.CutPlan = null;

        try
        {
            await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(120), observer: observer);
        }
        catch (TimeoutException)
        {
            await TestContext.Out.WriteLineAsync("observer's log:\n" + observer.Errors);
            throw;
        }
        var p = await accounts.PrimarySnapshotAsync();
        var r = await accounts.ReplicaSnapshotAsync();
        Assert.That(p.Differences(r), Is.Empty);
        Assert.That(r.DuplicatesAgainst(p), Is.Zero);
        Assert.That(p.MessageCount, Is.GreaterThan(1900));
        Assert.That(observer.HasExited, Is.False, "observer never exits on connection faults");
        Assert.That(primaryProxy.Cuts + replicaProxy.Cuts, Is.GreaterThanOrEqualTo(50));
        TestContext.Out.WriteLine($"cuts {primaryProxy.Cuts}+{replicaProxy.Cuts}, faults {primaryProxy.Faults}+{replicaProxy.Faults}, connections {primaryProxy.Accepted}+{replicaProxy.Accepted}");

        observer.Terminate();
        Assert.That(await observer.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.Zero, () => StackTraces.Tail(observer.Errors));
        Assert.That(StackTraces.Find(observer.Errors), Is.Null);
    }
}

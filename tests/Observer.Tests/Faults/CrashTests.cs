using NUnit.Framework;
using Observer.State;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>Fault 2: observer killed with SIGKILL at random moments, during the initial sync and while live.</summary>
[NonParallelizable]
public class CrashTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-crash-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task KilledTwentyTimes_DuringSyncAndLive_EndsIdenticalWithoutDuplicatesAndStateIntact()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        var folders = new[] { "INBOX", "Lists.Dev", "Receipts" };
        await using (var filler = await accounts.PrimaryClientAsync())
        {
            await MailFactory.FillAsync(filler, "INBOX", 1200);
            await MailFactory.FillAsync(filler, "Lists.Dev", 600);
            await MailFactory.FillAsync(filler, "Receipts", 200);
        }
        var statePath = Path.Combine(_dir, "state.db");
        var settings = FaultSettings.For(accounts, statePath);
        settings["Replication:AppendBatchSize"] = "25";
        var random = new Random(2020);

        using var stopUser = new CancellationTokenSource();
        var mutations = 0;
        MailboxMutator? mutator = null;
        var user = Task.Run(async () =>
        {
            await using var client = await accounts.PrimaryClientAsync();
            mutator = new MailboxMutator(client, 99, folders);
            // The first kills land in the initial sync; the user starts a little later.
            await Task.Delay(TimeSpan.FromSeconds(4));
            while (!stopUser.IsCancellationRequested)
            {
                await mutator.MutateOrCarryOnAsync();
                mutations = mutator.Total;
                await Task.Delay(random.Next(20, 120));
            }
        });

        var kills = 0;
        for (var round = 0; round < 22; round++)
        {
            await using var observer = ObserverProcess.Start("run", settings, _dir);
            await Task.Delay(random.Next(300, 2500));
            Assert.That(observer.HasExited, Is.False, observer.Errors);
            observer.Kill();
            kills++;
            // The state database must survive every kill: opening it runs SQLite's integrity check.
            using (StateStore.Open(statePath)) { }
        }
        await stopUser.CancelAsync();
        await user;

        await using (var last = ObserverProcess.Start("run", settings, _dir))
        {
            try
            {
                await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(120), observer: last);
            }
            catch (TimeoutException ex)
            {
                // Whatever the state holds back or retries is the first thing to know about a pair that will not converge.
                using var state = StateStore.OpenReadOnly(statePath);
                var replicaId = state.Replicas.Find("replica")!.Id;
                throw new TimeoutException(ex.Message + "\nheld: " + string.Join("; ", state.Holds.All(replicaId).Select(h => $"{h.Folder} ({h.Kind}): {h.Reason}"))
                    + "\nin trouble: " + string.Join("; ", state.Troubles.All(replicaId).Select(t => $"{t.Folder}: {t.Error}")), ex);
            }
            last.Terminate();
            Assert.That(await last.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.Zero);
        }
        var p = await accounts.PrimarySnapshotAsync();
        var r = await accounts.ReplicaSnapshotAsync();
        Assert.That(p.Differences(r), Is.Empty);
        Assert.That(r.DuplicatesAgainst(p), Is.Zero);
        Assert.That((kills, mutations), Is.GreaterThanOrEqualTo((20, 50)).Using<(int, int)>((a, b) => a.Item1 >= b.Item1 && a.Item2 >= b.Item2 ? 0 : -1));
        using var store = StateStore.Open(statePath);
        Assert.That(store.Journal.OpenCount(store.Replicas.Find("replica")!.Id), Is.Zero);
        TestContext.Out.WriteLine($"{kills} kills, {mutations} mutations, {mutator!.Refusals.Count} refused by the server{string.Concat(mutator.Refusals.Select(r => "\n  " + r))}");
    }
}

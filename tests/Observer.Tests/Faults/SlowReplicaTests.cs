using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>
/// A replica that pauses must not cost the primary its connection: the copier reads the primary a
/// chunk at a time, so while the replica stage waits, no FETCH is left half-read on the primary, where
/// its command deadline runs (issue 8, item 14).
/// </summary>
[NonParallelizable]
public class SlowReplicaTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-slow-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task ReplicaStallsLongerThanThePrimaryDeadline_ThePrimaryConnectionSurvives()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using (var filler = await accounts.PrimaryClientAsync()) await MailFactory.FillAsync(filler, "INBOX", 600);
        await using var replicaProxy = FaultProxy.Start(PairFixture.Pair.Replica.Host, PairFixture.Pair.Replica.Port);
        var settings = FaultSettings.For(accounts, Path.Combine(_dir, "state.db"), replicaProxy: replicaProxy);
        settings["Primary:CommandTimeout"] = "00:00:02";
        settings["Replica:CommandTimeout"] = "00:01:00";
        settings["Replication:ParallelFolders"] = "1";
        settings["Replication:AppendBatchSize"] = "20";

        using var stalls = new CancellationTokenSource();
        var staller = Task.Run(async () =>
        {
            // Once the copy is under way, pause the replica well past the primary's 2 s deadline, again and again.
            await Eventually.HoldsAsync(async () =>
            {
                await using var replica = await accounts.ReplicaClientAsync();
                return (await replica.StatusAsync("INBOX", Observer.Mail.StatusItems.Replication)).Messages > 0;
            }, TimeSpan.FromMinutes(1), every: TimeSpan.FromMilliseconds(100));
            while (!stalls.IsCancellationRequested)
            {
                replicaProxy.StallFor(TimeSpan.FromSeconds(3.5));
                await Task.Delay(TimeSpan.FromSeconds(4.5), stalls.Token).ContinueWith(_ => { });
            }
        });
        var (code, output, errors) = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(5));
        await stalls.CancelAsync();
        await staller;

        Assert.That(code, Is.EqualTo(0), output + errors);
        Assert.That(errors, Does.Not.Contain("primary unavailable").And.Not.Contain("no response from"), "the primary connection was broken while the replica stalled");
        Assert.That(replicaProxy.Faults, Is.GreaterThan(0), "the replica never stalled during the copy");
        Assert.That(await accounts.DifferencesAsync(), Is.Empty);
    }
}

using NUnit.Framework;
using Observer.Mail;
using Observer.State;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>What `observer status` says about a running `observer run`: alive while busy, and the servers' state as it is now.</summary>
[NonParallelizable]
public class ServiceStatusTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-service-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string StatePath => Path.Combine(_dir, "state.db");

    private async Task<(int Code, string Output)> StatusAsync(Dictionary<string, string> settings)
    {
        var (code, output, errors) = await ObserverProcess.RunAsync("status", settings, _dir, TimeSpan.FromSeconds(30));
        return (code, output + errors);
    }

    private DateTimeOffset? Heartbeat()
    {
        using var store = StateStore.OpenReadOnly(StatePath);
        return store.Replicas.Find("replica") is { } replica ? store.Service.Get(replica.Id)?.HeartbeatAt : null;
    }

    [Test]
    public async Task Run_HeldUpInTheMiddleOfAFirstCopy_KeepsItsHeartbeat_SoStatusSaysRunning()
    {
        const int total = 300;
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using (var filler = await accounts.PrimaryClientAsync()) await MailFactory.FillAsync(filler, "INBOX", total);
        await using var replicaProxy = FaultProxy.Start(PairFixture.Pair.Replica.Host, PairFixture.Pair.Replica.Port);
        var settings = accounts.Settings(StatePath);
        settings["Replica:Port"] = replicaProxy.Port.ToString();
        settings["Replica:CommandTimeout"] = "00:05:00";
        settings["Replication:AppendBatchSize"] = "5";
        await using var observer = ObserverProcess.Start("run", settings, _dir);
        await using var replica = await accounts.ReplicaClientAsync();

        await Eventually.HoldsAsync(async () => await InboxCountAsync(replica) >= 20, TimeSpan.FromSeconds(60), () => Task.FromResult(observer.Errors));
        replicaProxy.StallFor(TimeSpan.FromMinutes(5));
        var before = Heartbeat();
        // The engine now waits on the replica in the middle of INBOX; only a heartbeat of its own can show it is alive.
        await Eventually.HoldsAsync(() => Task.FromResult(Heartbeat() > before), TimeSpan.FromSeconds(30));
        await Eventually.HoldsAsync(() => Task.FromResult(Heartbeat() > before + TimeSpan.FromSeconds(4)), TimeSpan.FromSeconds(30));
        Assert.That(await InboxCountAsync(replica), Is.LessThan(total), "the copy was still held up, so the heartbeat did not come from the engine's loop");
        var (code, status) = await StatusAsync(settings);
        Assert.That(status, Does.Contain("service: running"));
        Assert.That(status, Does.Match(@"INBOX\s.*\snever\s+not yet synced"));
        Assert.That(code, Is.Zero, status);

        replicaProxy.StallFor(TimeSpan.Zero);
        observer.Terminate();
        Assert.That(await observer.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.Zero, observer.Errors);
    }

    [Test]
    public async Task Run_PrimaryGoneWhileIdle_StatusSaysUnavailable_AndUnknownOnceTheServiceIsGone()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using (var filler = await accounts.PrimaryClientAsync()) await MailFactory.FillAsync(filler, "INBOX", 3);
        await using var primaryProxy = FaultProxy.Start(PairFixture.Pair.Primary.Host, PairFixture.Pair.Primary.Port);
        var settings = accounts.Settings(StatePath);
        settings["Primary:Port"] = primaryProxy.Port.ToString();
        // No reconciliation pass comes along to stumble on the broken connection.
        settings["Replication:ReconcileInterval"] = "01:00:00";
        await using var observer = ObserverProcess.Start("run", settings, _dir);
        await Eventually.HoldsAsync(async () => (await StatusAsync(settings)).Output.Contains("primary: connected; replica: connected"), TimeSpan.FromSeconds(60),
            async () => (await StatusAsync(settings)).Output + observer.Errors);
        // Idle: the first pass is done, and nothing is asked of the primary until news comes. (MailKit learns
        // of a lost connection only when it reads: a CI run cut here stayed "connected" for good.)
        await Eventually.HoldsAsync(() => Task.FromResult(observer.Errors.Contains("pass complete", StringComparison.Ordinal)), TimeSpan.FromSeconds(60),
            () => Task.FromResult(observer.Errors));

        primaryProxy.RefuseFor(TimeSpan.FromHours(1));
        primaryProxy.CutAll();
        await Eventually.HoldsAsync(async () => (await StatusAsync(settings)).Output.Contains("primary: unavailable since"), TimeSpan.FromSeconds(30),
            async () => (await StatusAsync(settings)).Output + "\nobserver's log:\n" + observer.Errors);
        var (code, status) = await StatusAsync(settings);
        Assert.That(status, Does.Contain("health: not running or not connected: the primary is unavailable"));
        Assert.That(code, Is.EqualTo(2));

        observer.Kill();
        (code, status) = await StatusAsync(settings);
        Assert.That(status, Does.Contain("primary: unknown (service not running); replica: unknown (service not running)"));
        Assert.That(status, Does.Contain("the service is not running, and it did not stop cleanly"));
        Assert.That(code, Is.EqualTo(2));
    }

    private static async Task<uint> InboxCountAsync(UserImapClient replica) => (await replica.StatusAsync("INBOX", StatusItems.Messages)).Messages ?? 0;
}

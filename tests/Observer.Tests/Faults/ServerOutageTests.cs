using System.Text.RegularExpressions;
using NUnit.Framework;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>Faults 3 and 4: a server goes away (stopped, restarted, or it kicks us with BYE) while observer runs.</summary>
[NonParallelizable]
public class ServerOutageTests
{
    private DovecotPair _pair = null!;
    private string _dir = "";

    [OneTimeSetUp]
    public async Task StartAsync() => _pair = await DovecotPair.StartAsync("outage");

    [OneTimeTearDown]
    public async Task StopAsync() => await _pair.DisposeAsync();

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-outage-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task ReplicaDownThenBack_ObserverKeepsQuietThenCatchesUpAndLagFallsToZero()
    {
        var accounts = await _pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 20);
        await MailFactory.FillAsync(primary, "Work", 10);
        var settings = FaultSettings.For(accounts, Path.Combine(_dir, "state.db"));
        await using var observer = ObserverProcess.Start("run", settings, _dir);
        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(30), observer: observer);

        await _pair.Replica.StopAsync();
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            var linesBefore = Lines(observer.Errors);
            for (var i = 0; i < 30; i++)
            {
                await primary.AppendAsync(i % 2 == 0 ? "INBOX" : "Work", MailFactory.Message("while the replica is away " + i));
                await Task.Delay(300);
            }
            var status = await ObserverProcess.RunAsync("status", settings, _dir, TimeSpan.FromSeconds(30));
            Assert.That(status.Output, Does.Contain("replica: unavailable since"));
            Assert.That(Lag(status.Output), Is.GreaterThan(0), status.Output);

            var lines = Lines(observer.Errors) - linesBefore;
            Assert.That(lines, Is.LessThanOrEqualTo(4), "no flood of log lines:\n" + observer.Errors);
            Assert.That(observer.HasExited, Is.False);
        }
        finally
        {
            await _pair.Replica.StartAgainAsync();
        }

        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(60), observer: observer);
        await Eventually.HoldsAsync(async () => Lag((await ObserverProcess.RunAsync("status", settings, _dir, TimeSpan.FromSeconds(30))).Output) == 0,
            TimeSpan.FromSeconds(30));
        Assert.That(Regex.Count(observer.Errors, "replica unavailable"), Is.EqualTo(1), observer.Errors);
        Assert.That(observer.Errors, Does.Contain("replica reachable again"));
        observer.Terminate();
        Assert.That(await observer.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.Zero);
    }

    [Test]
    public async Task PrimaryRestartAndServerBye_NoChangeIsMissed_CatchUpUsesCondstore()
    {
        var accounts = await _pair.NewAccountsAsync();
        await using (var filler = await accounts.PrimaryClientAsync())
        {
            await MailFactory.FillAsync(filler, "INBOX", 800);
            await MailFactory.FillAsync(filler, "Notes", 200);
        }
        var settings = FaultSettings.For(accounts, Path.Combine(_dir, "state.db"));
        settings["Logging:LogLevel:Observer.Replication"] = "Debug";
        settings["Replication:AppendBatchSize"] = "20";
        await using var observer = ObserverProcess.Start("run", settings, _dir);

        // BYE in the middle of the initial copy: Dovecot's `doveadm kick` ends every session of the user.
        await using (var replica = await accounts.ReplicaClientAsync())
            await Eventually.HoldsAsync(async () => ((await replica.StatusAsync("INBOX", StatusItems.Messages).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result.Messages : 0)) ?? 0) > 100,
                TimeSpan.FromSeconds(60), every: TimeSpan.FromMilliseconds(50));
        await _pair.Primary.KickAsync(accounts.Primary);
        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(90), observer: observer);

        // Changes just before the primary restarts, and just after.
        await using (var user = await accounts.PrimaryClientAsync())
        {
            await user.AppendAsync("INBOX", MailFactory.Message("before the restart"));
            await user.SelectAsync("Notes");
            await user.UidStoreAsync(UidSet.Range(1, 5), StoreMode.Add, new MessageFlags(["\\Answered"]));
        }
        var beforeRestart = observer.Errors.Length;
        await _pair.Primary.RestartAsync();
        await using (var user = await accounts.PrimaryClientAsync())
        {
            await user.AppendAsync("Notes", MailFactory.Message("after the restart"));
            await user.SelectAsync("INBOX");
            await user.UidStoreAsync(UidSet.Single(7), StoreMode.Add, new MessageFlags(["\\Deleted"]));
            await user.UidExpungeAsync(UidSet.Single(7));
        }
        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(60), observer: observer);

        var afterRestart = observer.Errors[beforeRestart..];
        Assert.That(afterRestart, Does.Contain("primary read by changes since modseq"), "the catch-up asks for changes, not for everything");
        Assert.That(afterRestart, Does.Not.Contain("primary read by full scan of 8"), "no full scan of the big folders after the restart");
        var p = await accounts.PrimarySnapshotAsync();
        var r = await accounts.ReplicaSnapshotAsync();
        Assert.That(r.DuplicatesAgainst(p), Is.Zero);
        Assert.That(observer.HasExited, Is.False);
    }

    private static int Lines(string text) => text.Count(c => c == '\n');

    private static int Lag(string status)
    {
        var m = Regex.Match(status, @"^lag: (\d+) (s|min)", RegexOptions.Multiline);
        Assert.That(m.Success, Is.True, status);
        return int.Parse(m.Groups[1].Value) * (m.Groups[2].Value == "min" ? 60 : 1);
    }
}

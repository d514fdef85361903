using System.Text.RegularExpressions;
using NUnit.Framework;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>
/// Issue 12's failover and failback against three real Dovecot servers on loopback, through the observer command as an
/// admin runs it: a soft failover (drain, promote, failback) and a hard one (the primary lost with mail not yet replicated,
/// a forced promotion, the old primary back: the split-brain report and the copy-back).
/// </summary>
[NonParallelizable]
public class FailoverTests
{
    private TestServer _west = null!;
    private string _dir = "";

    [OneTimeSetUp]
    public async Task StartServerAsync() => _west = await TestServer.StartAsync(ServerKind.Dovecot, "failover-west", '/');

    [OneTimeTearDown]
    public async Task StopServerAsync() => await _west.DisposeAsync();

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-failover-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private Dictionary<string, string> Settings(int primaryPort, TestAccount primary, params (string Name, int Port, TestAccount Account)[] replicas)
    {
        var settings = new Dictionary<string, string>
        {
            ["Primary:Host"] = "127.0.0.1", ["Primary:Port"] = primaryPort.ToString(), ["Primary:Security"] = "None",
            ["Primary:Username"] = primary.User, ["Primary:Password"] = primary.Password,
            ["State:Path"] = Path.Combine(_dir, "state.db"),
            ["Reconnect:MaxDelay"] = "00:00:02",
            ["Reconnect:SyncAttempts"] = "1",
            ["Logging:LogLevel:Default"] = "Information",
        };
        for (var i = 0; i < replicas.Length; i++)
        {
            var (name, port, account) = replicas[i];
            settings[$"Replicas:{i}:Name"] = name;
            settings[$"Replicas:{i}:Host"] = "127.0.0.1";
            settings[$"Replicas:{i}:Port"] = port.ToString();
            settings[$"Replicas:{i}:Security"] = "None";
            settings[$"Replicas:{i}:Username"] = account.User;
            settings[$"Replicas:{i}:Password"] = account.Password;
        }
        return settings;
    }

    /// <summary>Runs the service until every pair converges, then stops it as systemd would.</summary>
    private async Task RunUntilConvergedAsync(Dictionary<string, string> settings, params PairAccounts[] pairs)
    {
        await using var service = ObserverProcess.Start("run", settings, _dir);
        await RunningAsync(service, pairs.Length);
        foreach (var pair in pairs) await Eventually.ConvergesAsync(pair, TimeSpan.FromSeconds(90), observer: service);
        await StopAsync(service);
    }

    /// <summary>Waits until the service has connected to <paramref name="replicas"/> replicas: it then handles SIGTERM as a service does.</summary>
    private static Task RunningAsync(ObserverProcess service, int replicas) =>
        Eventually.HoldsAsync(() => Task.FromResult(service.Errors.Split("connected: primary").Length - 1 >= replicas), TimeSpan.FromSeconds(60),
            () => Task.FromResult(service.Errors));

    private static async Task StopAsync(ObserverProcess service)
    {
        service.Terminate();
        Assert.That(await service.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.Zero, service.Errors);
    }

    private async Task<(int ExitCode, string Output, string Errors)> ObserverAsync(Dictionary<string, string> settings, string verb, params string[] args) =>
        await ObserverProcess.RunAsync(verb, settings, _dir, TimeSpan.FromSeconds(120), args);

    private static async Task<List<string>> Md5sAsync(PairAccounts accounts, bool primary) =>
        (primary ? await accounts.PrimarySnapshotAsync() : await accounts.ReplicaSnapshotAsync()).Folders.Values.SelectMany(f => f.Select(m => m.Md5)).ToList();

    private static async Task<string> AppendAsync(TestServer server, TestAccount account, string folder, string subject)
    {
        await using var client = await server.ConnectUserAsync(account);
        await client.AppendAsync(folder, MailFactory.Message(subject, messageId: $"<{Guid.NewGuid():N}@failover.example>"));
        return subject;
    }

    [Test]
    public async Task SoftFailover_DrainPromoteAndFailBack_LosesAndDuplicatesNothing()
    {
        var pair = PairFixture.Pair;
        var primary = await pair.Primary.NewAccountAsync();
        var east = await pair.Replica.NewAccountAsync();
        var west = await _west.NewAccountAsync();
        await using (var filler = await pair.Primary.ConnectUserAsync(primary))
        {
            await filler.CreateAsync("Work");
            await MailFactory.FillAsync(filler, "INBOX", 12);
            await MailFactory.FillAsync(filler, "Work", 6);
        }
        var settings = Settings(pair.Primary.Port, primary, ("east", pair.Replica.Port, east), ("west", _west.Port, west));
        var toEast = new PairAccounts(ServerPair.Of(pair.Primary, pair.Replica), primary, east);
        var toWest = new PairAccounts(ServerPair.Of(pair.Primary, _west), primary, west);
        await RunUntilConvergedAsync(settings, toEast, toWest);

        // Mail that reaches the primary after the service stopped: the drain takes it across before anyone switches.
        await AppendAsync(pair.Primary, primary, "INBOX", "after the service stopped");
        var drain = await ObserverAsync(settings, "drain");
        Assert.That(drain.ExitCode, Is.Zero, drain.Output + drain.Errors);
        Assert.That(drain.Output, Does.Contain("east and west are identical to primary: safe to switch to (observer promote east)"));
        Assert.That(await toEast.DifferencesAsync(), Is.Empty);

        var promote = await ObserverAsync(settings, "promote", "east");
        Assert.That(promote.ExitCode, Is.Zero, promote.Output + promote.Errors);
        Assert.That(promote.Output, Does.Contain("east is the primary now"));

        // The users are on east now: new mail, a flag, an expunge and a new folder, all of which must reach the old primary and west.
        var eastFirst = new PairAccounts(ServerPair.Of(pair.Replica, pair.Primary), east, primary);
        var eastToWest = new PairAccounts(ServerPair.Of(pair.Replica, _west), east, west);
        string gone;
        await using (var user = await pair.Replica.ConnectUserAsync(east))
        {
            await user.AppendAsync("INBOX", MailFactory.Message("new on east", messageId: "<new-on-east@failover.example>"));
            await user.CreateAsync("Projects");
            await user.AppendAsync("Projects", MailFactory.Message("a project", messageId: "<project@failover.example>"));
            var inbox = await user.SelectAsync("INBOX");
            var uids = (await user.UidSearchAsync(SearchQuery.All)).Expand().ToList();
            await user.UidStoreAsync(UidSet.FromUids([uids[0]]), StoreMode.Add, new MessageFlags([MessageFlags.Flagged]));
            gone = (await eastFirst.PrimarySnapshotAsync()).Folders["INBOX"].Single(m => m.Uid == uids[1]).Md5;
            await user.UidStoreAsync(UidSet.FromUids([uids[1]]), StoreMode.Add, new MessageFlags([MessageFlags.Deleted]));
            await user.UidExpungeAsync(UidSet.FromUids([uids[1]]));
            Assert.That(inbox.Exists, Is.GreaterThan(0));
        }
        await RunUntilConvergedAsync(settings, eastFirst, eastToWest);
        Assert.That(await Md5sAsync(eastFirst, primary: false), Does.Not.Contain(gone), "the old primary follows east's expunge");

        // Failback: the old primary becomes the primary again, the same way.
        var back = await ObserverAsync(settings, "promote", "primary");
        Assert.That(back.ExitCode, Is.Zero, back.Output + back.Errors);
        await AppendAsync(pair.Primary, primary, "INBOX", "after failback");
        await RunUntilConvergedAsync(settings, toEast, toWest);

        var final = await toEast.PrimarySnapshotAsync();
        Assert.That(final.Folders.Keys, Is.SupersetOf(new[] { "INBOX", "Work", "Projects" }));
        Assert.That(final.MessageCount, Is.EqualTo(12 + 6 + 1 + 1 + 1 - 1 + 1), "every message once: 18 at first, +1 after the stop, +2 on east, -1 expunged, +1 after failback");
        Assert.That((await toEast.ReplicaSnapshotAsync()).DuplicatesAgainst(final), Is.Zero);
        Assert.That((await toWest.ReplicaSnapshotAsync()).DuplicatesAgainst(final), Is.Zero);
        var report = await ObserverAsync(settings, "report", "split-brain");
        Assert.That(report.ExitCode, Is.Zero, report.Output + report.Errors);
        Assert.That(report.Output, Does.Contain("failover from east to primary"));
    }

    [Test]
    public async Task HardFailover_PrimaryLostWithUnreplicatedMail_IsReportedAndCopiedBack_AndEveryMessageEndsUpOnceOnEachSide()
    {
        var pair = PairFixture.Pair;
        var primary = await pair.Primary.NewAccountAsync();
        var east = await pair.Replica.NewAccountAsync();
        var west = await _west.NewAccountAsync();
        await using (var filler = await pair.Primary.ConnectUserAsync(primary))
        {
            await MailFactory.FillAsync(filler, "INBOX", 10);
        }
        await using var primaryLink = FaultProxy.Start(pair.Primary.Host, pair.Primary.Port);
        await using var eastLink = FaultProxy.Start(pair.Replica.Host, pair.Replica.Port);
        var settings = Settings(primaryLink.Port, primary, ("east", eastLink.Port, east), ("west", _west.Port, west));
        var toEast = new PairAccounts(ServerPair.Of(pair.Primary, pair.Replica), primary, east);
        var toWest = new PairAccounts(ServerPair.Of(pair.Primary, _west), primary, west);
        await RunUntilConvergedAsync(settings, toEast, toWest);

        // East falls behind for a while: a message reaches west and not east, then the service stops.
        string westOnly;
        await using (var service = ObserverProcess.Start("run", settings, _dir))
        {
            await RunningAsync(service, 2);
            eastLink.RefuseFor(TimeSpan.FromHours(1));
            eastLink.CutAll();
            var before = await Md5sAsync(toWest, primary: true);
            await AppendAsync(pair.Primary, primary, "INBOX", "reached west only");
            westOnly = (await Md5sAsync(toWest, primary: true)).Except(before).Single();
            await Eventually.HoldsAsync(async () => (await Md5sAsync(toWest, primary: false)).Contains(westOnly), TimeSpan.FromSeconds(60), () => Task.FromResult(service.Errors));
            await StopAsync(service);
        }
        eastLink.RefuseFor(TimeSpan.Zero);
        Assert.That(await Md5sAsync(toEast, primary: false), Does.Not.Contain(westOnly));

        // The primary accepts mail that is never replicated, then dies.
        await AppendAsync(pair.Primary, primary, "INBOX", "late mail 1");
        await AppendAsync(pair.Primary, primary, "INBOX", "late mail 2");
        await using (var user = await pair.Primary.ConnectUserAsync(primary))
        {
            await user.CreateAsync("Late");
            await user.AppendAsync("Late", MailFactory.Message("late in a new folder", messageId: "<late-folder@failover.example>"));
        }
        var late = (await toEast.PrimarySnapshotAsync()).Folders.Values.SelectMany(f => f).Select(m => m.Md5).Except(await Md5sAsync(toEast, primary: false)).ToList();
        late.Remove(westOnly);
        Assert.That(late, Has.Count.EqualTo(3));
        primaryLink.RefuseFor(TimeSpan.FromHours(1));
        primaryLink.CutAll();

        var soft = await ObserverAsync(settings, "promote", "east");
        Assert.That(soft.ExitCode, Is.EqualTo(1), "a soft promotion needs the primary");
        Assert.That(soft.Output, Does.Contain("observer promote east --force"));
        var forced = await ObserverAsync(settings, "promote", "east", "--force");
        Assert.That(forced.ExitCode, Is.Zero, forced.Output + forced.Errors);

        // East takes the users' mail; one message they delete there must not come back from the old primary.
        var eastFirst = new PairAccounts(ServerPair.Of(pair.Replica, pair.Primary), east, primary);
        var eastToWest = new PairAccounts(ServerPair.Of(pair.Replica, _west), east, west);
        string deleted;
        await using (var user = await pair.Replica.ConnectUserAsync(east))
        {
            await user.AppendAsync("INBOX", MailFactory.Message("new on east", messageId: "<east-new@failover.example>"));
            await user.SelectAsync("INBOX");
            var first = (await user.UidSearchAsync(SearchQuery.All)).Expand().ToList()[0];
            deleted = (await eastFirst.PrimarySnapshotAsync()).Folders["INBOX"].Single(m => m.Uid == first).Md5;
            await user.UidStoreAsync(UidSet.FromUids([first]), StoreMode.Add, new MessageFlags([MessageFlags.Deleted]));
            await user.UidExpungeAsync(UidSet.FromUids([first]));
        }

        // West follows east while the old primary is still down.
        await using (var service = ObserverProcess.Start("run", settings, _dir))
        {
            await RunningAsync(service, 1);
            await Eventually.ConvergesAsync(eastToWest, TimeSpan.FromSeconds(90), observer: service);
            await StopAsync(service);
        }

        // The old primary is back. Before anything is written to it, the report lists what it holds alone.
        primaryLink.RefuseFor(TimeSpan.Zero);
        var report = await ObserverAsync(settings, "report", "split-brain");
        Assert.That(report.ExitCode, Is.EqualTo(1), report.Output + report.Errors);
        Assert.That(report.Output, Does.Contain("only on primary").And.Contain("\"late mail 1\"").And.Contain("\"late mail 2\"").And.Contain("\"late in a new folder\""));
        Assert.That(report.Output, Does.Contain("Late (created on primary since the failover)"));
        Assert.That(report.Output, Does.Contain("only on east").And.Contain("\"new on east\""));
        Assert.That(report.Output, Does.Not.Contain("\"msg"), "a message deleted on east since the failover is not one-sided mail");
        Assert.That(report.Output, Does.Contain("copied back from west to east: 1 message").And.Contain("\"reached west only\""),
            "west, a mirror of the old primary, held mail east never got: compared before west was written to, while the old primary was away");
        Assert.That(report.Output.Split('\n').Where(l => l.Contains("only on primary: ") && l.Contains("reached west only")), Is.Empty,
            "what west copied back is not the old primary's to copy again");

        await RunUntilConvergedAsync(settings, eastFirst, eastToWest);
        var eastNow = await Md5sAsync(eastFirst, primary: true);
        foreach (var md5 in late) Assert.That(eastNow.Count(m => m == md5), Is.EqualTo(1), "the old primary's late mail is on the new primary once");
        Assert.That(eastNow.Count(m => m == westOnly), Is.EqualTo(1), "the message only west and the old primary had is on the new primary once, though both hold it");
        Assert.That(eastNow, Does.Not.Contain(deleted), "east's deletion stands");
        Assert.That(await Md5sAsync(eastFirst, primary: false), Does.Not.Contain(deleted));
        var after = await ObserverAsync(settings, "report", "split-brain");
        Assert.That(after.ExitCode, Is.Zero, after.Output + after.Errors);
        Assert.That(after.Output, Does.Contain("\"late mail 1\"").And.Contain("\"reached west only\""));
        Assert.That(Regex.Matches(after.Output, @"copied back from (primary|west) to east: (\d+) message").Sum(m => int.Parse(m.Groups[2].Value)), Is.EqualTo(4),
            "the three late messages and the one west had, each copied back once, by one server or the other");

        // A crash after the copies landed and before the comparison was marked done: the comparison runs again and copies nothing twice.
        using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_dir, "state.db")};Pooling=False"))
        {
            db.Open();
            using var undo = db.CreateCommand();
            undo.CommandText = "UPDATE failover_checks SET reconciled_at = NULL";
            Assert.That(undo.ExecuteNonQuery(), Is.GreaterThan(0));
        }
        var again = await ObserverAsync(settings, "sync");
        Assert.That(again.ExitCode, Is.Zero, again.Output + again.Errors);
        eastNow = await Md5sAsync(eastFirst, primary: true);
        foreach (var md5 in late.Append(westOnly)) Assert.That(eastNow.Count(m => m == md5), Is.EqualTo(1), "nothing copied back twice");

        // Mail the old primary still receives after its comparison (its own queue, a backup MX) is copied back, not removed as an extra.
        var oldBefore = await Md5sAsync(eastFirst, primary: false);
        await AppendAsync(pair.Primary, primary, "INBOX", "queued on the old primary");
        var queued = (await Md5sAsync(eastFirst, primary: false)).Except(oldBefore).Single();
        var rescue = await ObserverAsync(settings, "sync");
        Assert.That(await Md5sAsync(eastFirst, primary: true), Does.Contain(queued), rescue.Output + rescue.Errors);
        Assert.That(rescue.Errors, Does.Contain("copied back from primary to the new primary, INBOX").And.Contain("\"queued on the old primary\""));
        var settled = await ObserverAsync(settings, "sync");
        Assert.That(settled.ExitCode, Is.Zero, settled.Output + settled.Errors);
        Assert.That(await eastFirst.DifferencesAsync(), Is.Empty);
        Assert.That((await Md5sAsync(eastFirst, primary: true)).Count(m => m == queued), Is.EqualTo(1));
        Assert.That((await Md5sAsync(eastFirst, primary: false)).Count(m => m == queued), Is.EqualTo(1), "paired with its copy, not copied again");

        // Failback, soft: every message of both sides exists exactly once on every server.
        var back = await ObserverAsync(settings, "promote", "primary");
        Assert.That(back.ExitCode, Is.Zero, back.Output + back.Errors);
        await RunUntilConvergedAsync(settings, toEast, toWest);
        var final = await toEast.PrimarySnapshotAsync();
        Assert.That(final.MessageCount, Is.EqualTo(10 + 1 + 3 + 1 - 1 + 1));
        foreach (var md5 in late.Append(westOnly)) Assert.That(final.Folders.Values.SelectMany(f => f).Count(m => m.Md5 == md5), Is.EqualTo(1));
        Assert.That((await toEast.ReplicaSnapshotAsync()).DuplicatesAgainst(final), Is.Zero);
        Assert.That((await toWest.ReplicaSnapshotAsync()).DuplicatesAgainst(final), Is.Zero);
    }

    [Test]
    public async Task AnAccountAddedAfterAPromotion_KeepsTheMailOnlyTheOldPrimaryHas_CopiedBack_NotRemoved()
    {
        var pair = PairFixture.Pair;
        var alice = await pair.NewAccountsAsync();
        var bob = await pair.NewAccountsAsync();
        await using (var filler = await alice.PrimaryClientAsync()) await MailFactory.FillAsync(filler, "INBOX", 4);
        await using (var filler = await bob.PrimaryClientAsync()) await MailFactory.FillAsync(filler, "INBOX", 3, prefix: "bob");
        var settings = new Dictionary<string, string>
        {
            ["Primary:Host"] = "127.0.0.1", ["Primary:Port"] = pair.Primary.Port.ToString(), ["Primary:Security"] = "None",
            ["Replica:Host"] = "127.0.0.1", ["Replica:Port"] = pair.Replica.Port.ToString(), ["Replica:Security"] = "None",
            ["State:Path"] = Path.Combine(_dir, "state.db"),
            ["Reconnect:SyncAttempts"] = "1",
        };
        void Add(int index, string name, PairAccounts accounts)
        {
            settings[$"Accounts:{index}:Name"] = name;
            settings[$"Accounts:{index}:Primary:Username"] = accounts.Primary.User;
            settings[$"Accounts:{index}:Primary:Password"] = accounts.Primary.Password;
            settings[$"Accounts:{index}:Replica:Username"] = accounts.Replica.User;
            settings[$"Accounts:{index}:Replica:Password"] = accounts.Replica.Password;
        }
        Add(0, "alice", alice);
        Assert.That((await ObserverAsync(settings, "sync")).ExitCode, Is.Zero);
        var forced = await ObserverAsync(settings, "promote", "replica", "--force");
        Assert.That(forced.ExitCode, Is.Zero, forced.Output + forced.Errors);

        // Bob joins the settings after the promotion: his old primary holds mail his new primary never had.
        Add(1, "bob", bob);
        var sync = await ObserverAsync(settings, "sync");
        Assert.That(sync.ExitCode, Is.Zero, sync.Output + sync.Errors);
        var bobFirst = new PairAccounts(ServerPair.Of(pair.Replica, pair.Primary), bob.Replica, bob.Primary);
        Assert.That(await bobFirst.DifferencesAsync(), Is.Empty);
        Assert.That((await bobFirst.PrimarySnapshotAsync()).MessageCount, Is.EqualTo(3), "copied back to the new primary, not removed from the old one");
        Assert.That((await bobFirst.ReplicaSnapshotAsync()).MessageCount, Is.EqualTo(3), "and not doubled on the old primary");
        var aliceFirst = new PairAccounts(ServerPair.Of(pair.Replica, pair.Primary), alice.Replica, alice.Primary);
        Assert.That(await aliceFirst.DifferencesAsync(), Is.Empty);
    }
}

using NUnit.Framework;
using Observer.Mail;
using Observer.State;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>The real observer executable against the real Dovecot pair.</summary>
public class ObserverProcessTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-process-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string StatePath => Path.Combine(_dir, "state.db");

    private static void NoStackTrace(string errors) =>
        Assert.That(StackTraces.Find(errors), Is.Null);

    [Test]
    public async Task Run_ReplicatesLiveChanges_AndStopsCleanlyOnSigterm()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 5);
        await MailFactory.FillAsync(primary, "Team.Shared", 3);

        await using var observer = ObserverProcess.Start("run", accounts.Settings(StatePath), _dir);
        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(30), observer: observer);

        await primary.AppendAsync("INBOX", MailFactory.Message("arrives live"));
        await primary.SelectAsync("Team.Shared");
        await primary.UidStoreAsync(UidSet.Single(1), StoreMode.Add, new MessageFlags(["\\Answered", "$Replied"]));
        await primary.UidStoreAsync(UidSet.Single(2), StoreMode.Add, new MessageFlags(["\\Deleted"]));
        await primary.UidExpungeAsync(UidSet.Single(2));
        await primary.CreateAsync("Team.New");
        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(30), observer: observer);

        observer.Terminate();
        Assert.That(await observer.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.Zero, observer.Errors);
        NoStackTrace(observer.Errors);
        Assert.That(observer.Errors, Does.Contain("1 appended"));
    }

    [Test]
    public async Task Sync_WithTheJsonLogFormat_WritesOneJsonObjectALine_WithoutThePasswords()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using (var primary = await accounts.PrimaryClientAsync()) await MailFactory.FillAsync(primary, "INBOX", 2);
        var settings = accounts.Settings(StatePath);
        settings["Logging:Format"] = "Json";
        settings["Logging:LogLevel:Default"] = "Information";
        var (code, output, errors) = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromSeconds(60));
        Assert.That(code, Is.Zero, output + errors);
        var lines = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Is.Not.Empty);
        var events = lines.Select(l => System.Text.Json.JsonDocument.Parse(l)).ToList();
        Assert.That(events.Select(e => e.RootElement.GetProperty("Message").GetString()), Has.Some.Contains("INBOX: 2 appended"));
        Assert.That(events.Select(e => e.RootElement.GetProperty("Timestamp").GetString()), Has.All.Match(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"));
        Assert.That(errors, Does.Not.Contain(accounts.Primary.Password).And.Not.Contain(accounts.Replica.Password));
        Assert.That(output, Does.Contain("sync: the replica matches the primary (1 folder; 2 appended"));
    }

    [Test]
    public async Task Sync_KilledWithSigkillMidway_RestartsWithoutDuplicates()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using (var primary = await accounts.PrimaryClientAsync())
        {
            await MailFactory.FillAsync(primary, "INBOX", 1500);
            await MailFactory.FillAsync(primary, "Other", 300);
        }
        var settings = accounts.Settings(StatePath);
        settings["Replication:AppendBatchSize"] = "20";
        await using var replica = await accounts.ReplicaClientAsync();
        var kills = 0;
        for (var round = 1; round <= 3; round++)
        {
            await using var sync = ObserverProcess.Start("sync", settings, _dir);
            var target = round * 300;
            await Eventually.HoldsAsync(async () => sync.HasExited || await ReplicaCountAsync(replica) >= target, TimeSpan.FromSeconds(60));
            if (sync.HasExited) break;
            sync.Kill();
            kills++;
        }
        Assert.That(kills, Is.GreaterThanOrEqualTo(2), "the test must actually interrupt the sync");

        var (code, output, errors) = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(3));
        Assert.That(code, Is.Zero, output + errors);
        NoStackTrace(errors);
        var p = await accounts.PrimarySnapshotAsync();
        var r = await accounts.ReplicaSnapshotAsync();
        Assert.That(p.Differences(r), Is.Empty);
        Assert.That(r.DuplicatesAgainst(p), Is.Zero);
        using var store = StateStore.Open(StatePath);
        Assert.That(store.Journal.OpenCount(store.Replicas.Find("replica")!.Id), Is.Zero, "every write left in doubt was resolved");
    }

    [Test]
    public async Task Sync_HeldFolder_ExitsOneWithAPerFolderSummary()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "Big", 40);
        await MailFactory.FillAsync(primary, "Small", 2);
        var settings = accounts.Settings(StatePath);
        Assert.That((await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(1))).ExitCode, Is.Zero);
        await primary.SelectAsync("Big");
        await primary.UidStoreAsync(UidSet.Range(1, 30), StoreMode.Add, new MessageFlags(["\\Deleted"]));
        await primary.UidExpungeAsync(UidSet.Range(1, 30));

        var (code, output, errors) = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(1));
        Assert.That(code, Is.EqualTo(1));
        Assert.That(output, Does.Contain("Big").And.Contain("HELD: the primary folder shrank from 40 to 10"));
        Assert.That(output, Does.Contain("Small").And.Contain("up to date"));
        Assert.That(output, Does.Contain("1 of 3 folders does not match"));
        NoStackTrace(errors);

        var status = await ObserverProcess.RunAsync("status", settings, _dir, TimeSpan.FromSeconds(30));
        Assert.That(status.Output, Does.Contain("held deletions").And.Contain("Big: deleting 30 messages").And.Contain("approve: observer approve Big"));
        Assert.That(status.ExitCode, Is.EqualTo(1));

        var wrong = await ObserverProcess.RunAsync("approve", settings, _dir, TimeSpan.FromSeconds(30), "Bigg");
        Assert.That((wrong.ExitCode, wrong.Errors.Trim()), Is.EqualTo((2, "observer: no held deletions for 'Bigg'; held now: Big")));
        var approve = await ObserverProcess.RunAsync("approve", settings, _dir, TimeSpan.FromSeconds(30), "Big");
        Assert.That((approve.ExitCode, approve.Output), Is.EqualTo((0, "approve: 1 held deletion approved; run `observer sync` (or start `observer run`) to apply them\n")));
        var applied = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(1));
        Assert.That(applied.ExitCode, Is.Zero, applied.Output);
        Assert.That(await accounts.DifferencesAsync(), Is.Empty);
    }

    [Test]
    public async Task Verify_FindsTamperingWithExitOne_RepairExitsZero()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using (var primary = await accounts.PrimaryClientAsync()) await MailFactory.FillAsync(primary, "INBOX", 8);
        var settings = accounts.Settings(StatePath);
        await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(1));
        await using (var replica = await accounts.ReplicaClientAsync())
        {
            await replica.SelectAsync("INBOX");
            await replica.UidStoreAsync(UidSet.Single(3), StoreMode.Replace, new MessageFlags(["$Tampered"]));
        }
        var found = await ObserverProcess.RunAsync("verify", settings, _dir, TimeSpan.FromMinutes(1));
        Assert.That(found.ExitCode, Is.EqualTo(1));
        Assert.That(found.Output, Does.Contain("INBOX").And.Contain("1 with different flags").And.Contain("$Tampered"));
        var fixedUp = await ObserverProcess.RunAsync("verify", settings, _dir, TimeSpan.FromMinutes(1), "--repair");
        Assert.That(fixedUp.ExitCode, Is.Zero, fixedUp.Output);
        Assert.That(fixedUp.Output, Does.Contain("verify: identical (8 messages in 1 folder)"));
    }

    [Test]
    public async Task Status_AfterSync_ListsEveryFolderWithNoLag()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using (var primary = await accounts.PrimaryClientAsync())
        {
            await MailFactory.FillAsync(primary, "INBOX", 3);
            await MailFactory.FillAsync(primary, "Reports.2026", 4);
        }
        var settings = accounts.Settings(StatePath);
        await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(1));
        var (code, output, _) = await ObserverProcess.RunAsync("status", settings, _dir, TimeSpan.FromSeconds(30));
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Match(@"INBOX\s+3\s"));
        Assert.That(output, Does.Match(@"Reports\.2026\s+4\s"));
        Assert.That(output, Does.Contain("service: not running"));
        Assert.That(output, Does.Contain("lag: 0 s; pending writes: 0; folders in trouble: 0"));
    }

    [TestCase("Primary")]
    [TestCase("Replica")]
    public async Task RefusedLogin_NamesTheSideThatRefused_IsOneLineAndExitOne_WithoutRetryingForever(string side)
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        var settings = accounts.Settings(StatePath);
        settings[$"{side}:Password"] = "wrong-password";
        var (server, account) = side == "Primary" ? (PairFixture.Pair.Primary, accounts.Primary) : (PairFixture.Pair.Replica, accounts.Replica);
        var started = DateTime.UtcNow;
        var (code, output, errors) = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(1));
        Assert.That(code, Is.EqualTo(1));
        Assert.That(errors, Does.Contain(
            $"observer: the {side.ToLowerInvariant()} ({server.Host}:{server.Port}) refused the login for user {account.User}: [AUTHENTICATIONFAILED]"));
        Assert.That(errors, Does.Match($@"; check {side}:Username and the password\n$"));
        Assert.That(errors, Does.Not.Contain("wrong-password"));
        Assert.That(DateTime.UtcNow - started, Is.LessThan(TimeSpan.FromSeconds(20)), "a refused login is not retried");
        NoStackTrace(errors);
    }

    [Test]
    public async Task TraceLevelLogs_NeverContainAPassword()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using (var primary = await accounts.PrimaryClientAsync()) await MailFactory.FillAsync(primary, "INBOX", 2);
        var settings = accounts.Settings(StatePath);
        settings["Logging:LogLevel:Default"] = "Trace";
        var (code, output, errors) = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(1));
        Assert.That(code, Is.Zero);
        Assert.That(errors, Does.Match(@"C: A0*1 "), "the protocol trace is on, so the check means something");
        Assert.That(errors, Does.Contain("AUTHENTICATE PLAIN <redacted>"));
        foreach (var secret in new[] { accounts.Primary.Password, accounts.Replica.Password })
            Assert.That(output + errors, Does.Not.Contain(secret));
    }

    private static async Task<uint> ReplicaCountAsync(UserImapClient replica)
    {
        try
        {
            return (await replica.StatusAsync("INBOX", StatusItems.Messages)).Messages ?? 0;
        }
        catch (ImapCommandException)
        {
            return 0;
        }
    }
}

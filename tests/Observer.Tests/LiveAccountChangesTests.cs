using System.Diagnostics;
using NUnit.Framework;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>
/// Accounts added to and taken out of a live `observer run` through the AccountsFile, picked up when the file
/// changes or on SIGHUP, without a restart; and `observer forget` for the state of one taken out.
/// A master user on each real Dovecot lets every account of the file share the logins of the top-level sections.
/// </summary>
public class LiveAccountChangesTests
{
    private static readonly TestAccount Master = new("admin", "master-" + Guid.NewGuid().ToString("N")[..10]);

    private DovecotPair _pair = null!;
    private string _dir = "";

    [OneTimeSetUp]
    public async Task StartAsync() => _pair = await DovecotPair.StartAsync("reload", primaryMaster: Master, replicaMaster: Master);

    [OneTimeTearDown]
    public async Task StopAsync() => await _pair.DisposeAsync();

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-reload-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string AccountsFile => Path.Combine(_dir, "accounts.txt");

    private Dictionary<string, string> Settings() => new()
    {
        ["Primary:Host"] = _pair.Primary.Host,
        ["Primary:Port"] = _pair.Primary.Port.ToString(),
        ["Primary:Security"] = "None",
        ["Primary:MasterUser"] = Master.User,
        ["Primary:Password"] = Master.Password,
        ["Replica:Host"] = _pair.Replica.Host,
        ["Replica:Port"] = _pair.Replica.Port.ToString(),
        ["Replica:Security"] = "None",
        ["Replica:MasterUser"] = Master.User,
        ["Replica:Password"] = Master.Password,
        ["AccountsFile"] = AccountsFile,
        ["State:Path"] = Path.Combine(_dir, "state.db"),
    };

    private static string Line(string name, PairAccounts a) => $"{name} {a.Primary.User} {a.Replica.User}\n";

    private async Task<PairAccounts> WithMailAsync(int messages)
    {
        var a = await _pair.NewAccountsAsync();
        await using var primary = await a.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", messages);
        return a;
    }

    /// <summary>Rewrites the file with its old write time, so only a SIGHUP can tell the service it changed.</summary>
    private async Task RewriteUnnoticedAsync(string text)
    {
        var stamp = File.GetLastWriteTimeUtc(AccountsFile);
        await File.WriteAllTextAsync(AccountsFile, text);
        File.SetLastWriteTimeUtc(AccountsFile, stamp);
    }

    private static async Task HangUpAsync(ObserverProcess observer)
    {
        using var kill = Process.Start("kill", ["-HUP", observer.Pid.ToString()]);
        await kill.WaitForExitAsync();
        Assert.That(kill.ExitCode, Is.Zero);
    }

    [Test]
    public async Task AccountsAddedAndTakenOut_WhileRunning_StartAndStop_WithoutARestart()
    {
        var (alice, bob, carol) = (await WithMailAsync(5), await WithMailAsync(3), await WithMailAsync(2));
        await File.WriteAllTextAsync(AccountsFile, "# the office\n" + Line("alice", alice));
        var settings = Settings();
        await using var observer = ObserverProcess.Start("run", settings, _dir);
        await Eventually.ConvergesAsync(alice, TimeSpan.FromSeconds(60), observer: observer);

        // Added by editing the file: bob's mail arrives with nobody restarting anything.
        await File.WriteAllTextAsync(AccountsFile, Line("alice", alice) + Line("bob", bob));
        await Eventually.ConvergesAsync(bob, TimeSpan.FromSeconds(60), observer: observer);
        Assert.That(observer.Errors, Does.Contain("account bob added: replicating it"));

        // Taken out, and carol added, by a file the poll cannot see changed: only SIGHUP reads it.
        await RewriteUnnoticedAsync(Line("bob", bob) + Line("carol", carol));
        await HangUpAsync(observer);
        await Eventually.ConvergesAsync(carol, TimeSpan.FromSeconds(60), observer: observer);
        Assert.That(observer.Errors, Does.Contain("reading the settings again (SIGHUP)"));
        await Eventually.HoldsAsync(() => Task.FromResult(observer.Errors.Contains("account alice is no longer in the settings: stopped", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), () => Task.FromResult(observer.Errors));

        // Alice's new mail stays behind; bob's, sent after it, still arrives.
        await using (var primary = await alice.PrimaryClientAsync()) await primary.AppendAsync("INBOX", MailFactory.Message("after alice left"));
        await using (var primary = await bob.PrimaryClientAsync()) await primary.AppendAsync("INBOX", MailFactory.Message("bob goes on"));
        await Eventually.ConvergesAsync(bob, TimeSpan.FromSeconds(30), observer: observer);
        Assert.That(await alice.DifferencesAsync(), Is.Not.Empty, "nothing replicates alice any more");

        var stillThere = await ObserverProcess.RunAsync("forget", settings, _dir, TimeSpan.FromSeconds(30), "bob");
        Assert.That((stillThere.ExitCode, stillThere.Errors), Is.EqualTo((2, "observer: account bob is still in the settings (accounts.txt line 1); take it out of the settings first, or its state is only built again\n")));
        var status = await ObserverProcess.RunAsync("status", settings, _dir, TimeSpan.FromSeconds(30));
        Assert.That(status.Output, Does.Contain("\nalice").And.Contain("not in the settings any more; its state is kept"));
        var forget = await ObserverProcess.RunAsync("forget", settings, _dir, TimeSpan.FromSeconds(30), "alice");
        Assert.That(forget.ExitCode, Is.Zero, forget.Output + forget.Errors);
        Assert.That(forget.Output, Does.Contain("forget: account alice's state is deleted (1 folder)"));
        status = await ObserverProcess.RunAsync("status", settings, _dir, TimeSpan.FromSeconds(30));
        Assert.That(status.Output, Does.Not.Contain("\nalice"));

        observer.Terminate();
        Assert.That(await observer.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.Zero, observer.Errors);
        Assert.That(StackTraces.Find(observer.Errors), Is.Null);
    }

    [Test]
    public async Task ABrokenEdit_IsRefusedInOneLine_AndEveryAccountRunsOn()
    {
        var alice = await WithMailAsync(2);
        await File.WriteAllTextAsync(AccountsFile, Line("alice", alice));
        await using var observer = ObserverProcess.Start("run", Settings(), _dir);
        await Eventually.ConvergesAsync(alice, TimeSpan.FromSeconds(60), observer: observer);

        await File.WriteAllTextAsync(AccountsFile, Line("alice", alice) + "bob has four fields\n");
        await Eventually.HoldsAsync(() => Task.FromResult(observer.Errors.Contains("settings not reloaded: AccountsFile", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), () => Task.FromResult(observer.Errors));
        Assert.That(observer.Errors, Does.Contain("line 2 has 4 fields; write NAME [PRIMARY-USER [REPLICA-USER]], one account a line; every account runs on as before"));

        // Not only a mistake in the settings: a path no file can have fails elsewhere, and is refused the same way.
        var settings = Settings();
        settings["AccountsFile"] = "bad\0name";
        ObserverProcess.WriteSettings(settings, Path.Combine(_dir, "settings.json"));
        await Eventually.HoldsAsync(() => Task.FromResult(observer.Errors.Contains("settings not reloaded: 'bad\\0name' is not a valid path", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), () => Task.FromResult(observer.Errors));

        await using (var primary = await alice.PrimaryClientAsync()) await primary.AppendAsync("INBOX", MailFactory.Message("still replicated"));
        await Eventually.ConvergesAsync(alice, TimeSpan.FromSeconds(30), observer: observer);
        Assert.That(observer.Errors, Does.Not.Contain("is no longer in the settings"));
        observer.Terminate();
        Assert.That(await observer.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.Zero, observer.Errors);
    }

    [Test]
    public async Task BeyondTheLiveAccounts_OthersArePolled_AndABusyOneTakesTheSlotOfAQuietOne()
    {
        var (alice, bob, carol) = (await WithMailAsync(3), await WithMailAsync(2), await WithMailAsync(2));
        await File.WriteAllTextAsync(AccountsFile, Line("alice", alice) + Line("bob", bob) + Line("carol", carol));
        var settings = Settings();
        settings["Replication:LiveAccounts"] = "1";
        settings["Replication:PollInterval"] = "00:00:01";
        await using var observer = ObserverProcess.Start("run", settings, _dir);
        foreach (var a in new[] { alice, bob, carol }) await Eventually.ConvergesAsync(a, TimeSpan.FromSeconds(60), observer: observer);
        Assert.That(observer.Errors, Does.Contain("3 accounts: 1 replicate live, the others are polled every 1 s, 4 at a time"));
        Assert.That(Watching(observer), Is.EqualTo(new[] { "alice" }), "only the first account holds a watch");

        // Carol's mail arrives by polling; once alice has been quiet for ten poll intervals, carol takes her live slot.
        await using (var primary = await carol.PrimaryClientAsync()) await primary.AppendAsync("INBOX", MailFactory.Message("polled in"));
        await Eventually.ConvergesAsync(carol, TimeSpan.FromSeconds(30), observer: observer);
        await Eventually.HoldsAsync(() => Task.FromResult(Watching(observer).Contains("carol")), TimeSpan.FromSeconds(60), () => Task.FromResult(observer.Errors));
        Assert.That(observer.Errors, Does.Contain("account alice has been quiet for"));

        // Alice, polled now, still gets her mail; bob, polled all along, his flag change (seen by the primary's mod-sequence alone).
        await using (var primary = await alice.PrimaryClientAsync()) await primary.AppendAsync("INBOX", MailFactory.Message("alice polled"));
        await using (var primary = await bob.PrimaryClientAsync())
        {
            await primary.SelectAsync("INBOX");
            await primary.UidStoreAsync(UidSet.Single(1), StoreMode.Add, new MessageFlags(["\\Flagged"]));
        }
        await Eventually.ConvergesAsync(alice, TimeSpan.FromSeconds(30), observer: observer);
        await Eventually.ConvergesAsync(bob, TimeSpan.FromSeconds(30), observer: observer);
        observer.Terminate();
        Assert.That(await observer.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.Zero, observer.Errors);
        Assert.That(StackTraces.Find(observer.Errors), Is.Null);
    }

    [Test]
    public async Task TheConnectionBudget_IsNeverExceeded_OnEitherServer_AndEveryAccountStillReplicates()
    {
        // Counted by proxies in front of both servers, from each connection's accept to its close.
        await using var primaryProxy = FaultProxy.Start(_pair.Primary.Host, _pair.Primary.Port);
        await using var replicaProxy = FaultProxy.Start(_pair.Replica.Host, _pair.Replica.Port);
        var accounts = new List<PairAccounts>();
        for (var i = 0; i < 6; i++)
        {
            var a = await _pair.NewAccountsAsync();
            await using var primary = await a.PrimaryClientAsync();
            foreach (var folder in new[] { "INBOX", "Work", "Lists", "Archive" }) await MailFactory.FillAsync(primary, folder, 2 + i);
            accounts.Add(a);
        }
        await File.WriteAllTextAsync(AccountsFile, string.Concat(accounts.Select((a, i) => Line("user" + i, a))));
        var settings = Settings();
        settings["Primary:Port"] = primaryProxy.Port.ToString();
        settings["Replica:Port"] = replicaProxy.Port.ToString();
        settings["Replication:MaxConnections"] = "3";
        settings["Replication:ParallelAccounts"] = "2";
        settings["Replication:ConnectionBudget"] = "17";
        settings["Replication:QuietPollInterval"] = "00:00:03";
        settings["Replication:PollInterval"] = "00:00:01";
        await using var observer = ObserverProcess.Start("run", settings, _dir);
        foreach (var a in accounts) await Eventually.ConvergesAsync(a, TimeSpan.FromSeconds(90), observer: observer);
        Assert.That(observer.Errors, Does.Contain("6 accounts: 2 replicate live, the others are polled every 1 s (3 s once quiet), 2 at a time (Replication:ConnectionBudget 17 leaves room for 2 of the 50 LiveAccounts)"));

        // A burst in every account at once: live ones copy with their folder workers while the polled ones sync.
        await Task.WhenAll(accounts.Select(async a =>
        {
            await using var primary = await a.PrimaryClientAsync();
            foreach (var folder in new[] { "INBOX", "Work", "Lists" }) await MailFactory.FillAsync(primary, folder, 3);
        }));
        foreach (var a in accounts) await Eventually.ConvergesAsync(a, TimeSpan.FromSeconds(90), observer: observer);
        observer.Terminate();
        Assert.That(await observer.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.Zero, observer.Errors);

        // The budget's slots stop any connection past 17; the sizing keeps below that without waiting for one:
        // two live accounts and two polls of at most MaxConnections + 1 each.
        Assert.That(primaryProxy.PeakConnections, Is.InRange(5, 16), "two live accounts hold a watch and a worker each, and a poll connects beside them");
        Assert.That(replicaProxy.PeakConnections, Is.InRange(3, 16));
        TestContext.Out.WriteLine($"peak connections: primary {primaryProxy.PeakConnections}, replica {replicaProxy.PeakConnections} (budget 17)");
    }

    [Test]
    public async Task NewAccountsFirstCopies_NeverTakeEveryPollSlot_SoAnAccountAlreadyCopiedIsStillPolled()
    {
        var (bob, carol, dave) = (await WithMailAsync(2), await WithMailAsync(2), await WithMailAsync(2));
        var settings = Settings();
        settings.Remove("AccountsFile");
        settings["Replication:LiveAccounts"] = "0";
        settings["Replication:ParallelAccounts"] = "2";
        settings["Replication:PollInterval"] = "00:00:01";
        void Add(int index, string name, PairAccounts a)
        {
            settings[$"Accounts:{index}:Name"] = name;
            settings[$"Accounts:{index}:Primary:Username"] = a.Primary.User;
            settings[$"Accounts:{index}:Replica:Username"] = a.Replica.User;
        }
        Add(0, "bob", bob);
        await using var observer = ObserverProcess.Start("run", settings, _dir);
        await Eventually.ConvergesAsync(bob, TimeSpan.FromSeconds(60), observer: observer);

        // Two new accounts whose primary answers nothing: their first copies hang for as long as the stall lasts.
        await using var stalled = FaultProxy.Start(_pair.Primary.Host, _pair.Primary.Port);
        stalled.StallFor(TimeSpan.FromMinutes(3));
        foreach (var (index, name, a) in new[] { (1, "carol", carol), (2, "dave", dave) })
        {
            Add(index, name, a);
            settings[$"Accounts:{index}:Primary:Port"] = stalled.Port.ToString();
            settings[$"Accounts:{index}:Primary:ConnectTimeout"] = "00:03:00";
        }
        ObserverProcess.WriteSettings(settings, Path.Combine(_dir, "settings.json"));
        await Eventually.HoldsAsync(() => Task.FromResult(stalled.OpenConnections > 0), TimeSpan.FromSeconds(30), () => Task.FromResult(observer.Errors));

        // Bob's new mail still arrives by his poll, in the slot the first copies leave free.
        await using (var primary = await bob.PrimaryClientAsync()) await primary.AppendAsync("INBOX", MailFactory.Message("not behind the new accounts"));
        await Eventually.ConvergesAsync(bob, TimeSpan.FromSeconds(20), observer: observer);
        Assert.That(stalled.OpenConnections, Is.EqualTo(1), "one first copy at a time while there are two poll slots");
        observer.Terminate();
        Assert.That(await observer.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.Zero, observer.Errors);
    }

    /// <summary>The accounts that started watching the primary, in the order they did.</summary>
    private static List<string> Watching(ObserverProcess observer) =>
        observer.Errors.Split('\n').Where(l => l.Contains(" watching the primary with ", StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf("=> account ", StringComparison.Ordinal) + 11)..].Split(' ')[0]).ToList();
}

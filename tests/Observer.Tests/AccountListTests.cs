using NUnit.Framework;
using Observer.State;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>One observer replicating several accounts of the real Dovecot pair, from an Accounts list.</summary>
public class AccountListTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-accounts-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string StatePath => Path.Combine(_dir, "state.db");

    /// <summary>
    /// The servers given once at the top, each account with only its logins; <paramref name="wrongPrimaryPassword"/>
    /// names the accounts whose primary password is wrong.
    /// </summary>
    private Dictionary<string, string> Settings(IReadOnlyList<(string Name, PairAccounts Accounts)> accounts, params string[] wrongPrimaryPassword)
    {
        var pair = PairFixture.Pair;
        var settings = new Dictionary<string, string>
        {
            ["Primary:Host"] = pair.Primary.Host,
            ["Primary:Port"] = pair.Primary.Port.ToString(),
            ["Primary:Security"] = "None",
            ["Replica:Host"] = pair.Replica.Host,
            ["Replica:Port"] = pair.Replica.Port.ToString(),
            ["Replica:Security"] = "None",
            ["State:Path"] = StatePath,
            // A refused account is tried again within seconds here, not a minute.
            ["Reconnect:MaxDelay"] = "00:00:02",
        };
        for (var i = 0; i < accounts.Count; i++)
        {
            var (name, a) = accounts[i];
            settings[$"Accounts:{i}:Name"] = name;
            settings[$"Accounts:{i}:Primary:Username"] = a.Primary.User;
            settings[$"Accounts:{i}:Primary:Password"] = wrongPrimaryPassword.Contains(name) ? "wrong-" + a.Primary.Password : a.Primary.Password;
            settings[$"Accounts:{i}:Replica:Username"] = a.Replica.User;
            settings[$"Accounts:{i}:Replica:Password"] = a.Replica.Password;
        }
        return settings;
    }

    private static async Task<List<(string Name, PairAccounts Accounts)>> AccountsWithMailAsync(params (string Name, int Messages)[] wanted)
    {
        var accounts = new List<(string, PairAccounts)>();
        foreach (var (name, messages) in wanted)
        {
            var a = await PairFixture.Pair.NewAccountsAsync();
            await using var primary = await a.PrimaryClientAsync();
            await MailFactory.FillAsync(primary, "INBOX", messages);
            await MailFactory.FillAsync(primary, "Projects." + name, messages / 2 + 1);
            accounts.Add((name, a));
        }
        return accounts;
    }

    [Test]
    public async Task Sync_CopiesEveryAccount_AndARefusedLoginFailsOnlyItsOwnAccount()
    {
        var accounts = await AccountsWithMailAsync(("alice", 12), ("bob", 5), ("carol", 3));
        var settings = Settings(accounts, "bob");

        var (code, output, errors) = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(2));
        Assert.That(code, Is.EqualTo(1), output + errors);
        Assert.That(StackTraces.Find(errors), Is.Null);
        Assert.That(output, Does.Contain("account bob\n  sync: FAILED: the primary"));
        Assert.That(output, Does.Contain("check Accounts:1:Primary:Username and the password"));
        Assert.That(output, Does.Contain("sync: 1 of 3 accounts needs attention: bob"));
        Assert.That(await accounts[0].Accounts.DifferencesAsync(), Is.Empty, "alice, before bob, was copied");
        Assert.That(await accounts[2].Accounts.DifferencesAsync(), Is.Empty, "carol, after bob, was copied too");
        Assert.That((await accounts[1].Accounts.ReplicaSnapshotAsync()).MessageCount, Is.Zero, "nothing was written for bob");

        // Each account's maps are its own: bob's first copy, once his password is right, adds to nobody else's.
        settings = Settings(accounts);
        var bob = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(2), "--account", "bob");
        Assert.That(bob.ExitCode, Is.Zero, bob.Output + bob.Errors);
        Assert.That(bob.Output, Does.Not.Contain("account alice"));
        Assert.That(await accounts[1].Accounts.DifferencesAsync(), Is.Empty);
        using (var store = StateStore.Open(StatePath))
        {
            foreach (var (name, a) in accounts)
            {
                var replica = store.Replicas.Find("replica", name)!;
                var primary = await a.PrimarySnapshotAsync();
                Assert.That(store.Folders.All(replica.Id).Sum(f => store.Messages.Count(f.Id)), Is.EqualTo(primary.MessageCount), name);
            }
        }

        var again = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(2));
        Assert.That(again.ExitCode, Is.Zero, again.Output + again.Errors);
        Assert.That(again.Output, Does.Contain("sync: every account's replica matches its primary (3 accounts)"));
        foreach (var (name, a) in accounts)
            Assert.That((await a.ReplicaSnapshotAsync()).DuplicatesAgainst(await a.PrimarySnapshotAsync()), Is.Zero, name);

        var verify = await ObserverProcess.RunAsync("verify", settings, _dir, TimeSpan.FromMinutes(2));
        Assert.That(verify.ExitCode, Is.Zero, verify.Output + verify.Errors);
        Assert.That(verify.Output, Does.Contain("account carol\n  INBOX").And.EndWith("verify: every account's replica is identical to its primary (3 accounts)\n"));

        var status = await ObserverProcess.RunAsync("status", settings, _dir, TimeSpan.FromSeconds(30));
        Assert.That(status.ExitCode, Is.Zero, status.Output + status.Errors);
        foreach (var (name, a) in accounts)
            Assert.That(status.Output, Does.Match($@"\n{name} +2 +{(await a.PrimarySnapshotAsync()).MessageCount} +0  0 s +ok\n"), status.Output);
    }

    [Test]
    public async Task Run_ReplicatesEveryAccountLive_WhileOneCannotLogIn_AndStatusSaysWhich()
    {
        var accounts = await AccountsWithMailAsync(("alice", 4), ("bob", 2), ("carol", 3));
        var settings = Settings(accounts, "carol");
        await using var observer = ObserverProcess.Start("run", settings, _dir);
        await Eventually.ConvergesAsync(accounts[0].Accounts, TimeSpan.FromSeconds(60), observer: observer);
        await Eventually.ConvergesAsync(accounts[1].Accounts, TimeSpan.FromSeconds(60), observer: observer);

        foreach (var (name, a) in accounts.Take(2))
        {
            await using var primary = await a.PrimaryClientAsync();
            await primary.AppendAsync("INBOX", MailFactory.Message("live for " + name));
        }
        await Eventually.ConvergesAsync(accounts[0].Accounts, TimeSpan.FromSeconds(30), observer: observer);
        await Eventually.ConvergesAsync(accounts[1].Accounts, TimeSpan.FromSeconds(30), observer: observer);

        string carolLine = "";
        await Eventually.HoldsAsync(async () =>
        {
            var status = await ObserverProcess.RunAsync("status", settings, _dir, TimeSpan.FromSeconds(30));
            carolLine = status.Output.Split('\n').FirstOrDefault(l => l.StartsWith("carol ", StringComparison.Ordinal)) ?? status.Output;
            return carolLine.Contains("replication stopped: the primary", StringComparison.Ordinal) && status.ExitCode == 2
                && status.Output.Contains("\nalice ", StringComparison.Ordinal) && !status.Output.Split('\n').First(l => l.StartsWith("alice ", StringComparison.Ordinal)).Contains("stopped");
        }, TimeSpan.FromSeconds(30), () => Task.FromResult(carolLine));
        Assert.That(observer.Errors, Does.Contain("=> account carol"), "carol's lines say whose they are");
        Assert.That(observer.Errors, Does.Contain("trying it again in"), "carol is retried, not dropped");
        Assert.That((await accounts[2].Accounts.ReplicaSnapshotAsync()).MessageCount, Is.Zero);

        observer.Terminate();
        Assert.That(await observer.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.Zero, observer.Errors);
        Assert.That(StackTraces.Find(observer.Errors), Is.Null);
    }
}

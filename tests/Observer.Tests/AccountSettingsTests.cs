using Microsoft.Extensions.Configuration;
using NUnit.Framework;
using Observer.Cli;
using Observer.Configuration;

namespace Observer.Tests;

/// <summary>The Accounts list: what each account inherits, how it is named, and every mistake in one line.</summary>
[NonParallelizable]
public class AccountSettingsTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-accounts-config-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    /// <summary>Two accounts on one pair of servers given once at the top.</summary>
    private static readonly Dictionary<string, string> TwoAccounts = new()
    {
        ["Primary:Host"] = "127.0.0.1",
        ["Primary:Port"] = "1",
        ["Primary:Security"] = "None",
        ["Replica:Host"] = "127.0.0.1",
        ["Replica:Port"] = "2",
        ["Replica:Security"] = "None",
        ["Accounts:0:Name"] = "alice",
        ["Accounts:0:Primary:Username"] = "alice",
        ["Accounts:0:Primary:Password"] = "pa",
        ["Accounts:0:Replica:Username"] = "alice",
        ["Accounts:0:Replica:Password"] = "ra",
        ["Accounts:1:Name"] = "bob",
        ["Accounts:1:Primary:Username"] = "bob",
        ["Accounts:1:Primary:Password"] = "pb",
        ["Accounts:1:Replica:Username"] = "bob",
        ["Accounts:1:Replica:Password"] = "rb",
    };

    private static Dictionary<string, string> With(params (string Key, string? Value)[] changes)
    {
        var settings = new Dictionary<string, string>(TwoAccounts);
        foreach (var (key, value) in changes)
            if (value is null) settings.Remove(key);
            else settings[key] = value;
        return settings;
    }

    private async Task<(int Code, string Out, string Err)> Run(Dictionary<string, string> settings, params string[] args)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        string[] argv = [.. args, "--State:Path=" + Path.Combine(_dir, "s.db"), .. settings.Select(kv => $"--{kv.Key}={kv.Value}")];
        var code = await ObserverProgram.RunAsync(argv, output, errors);
        return (code, output.ToString(), errors.ToString());
    }

    private static ObserverOptions Bound(Dictionary<string, string> settings)
    {
        var options = new ObserverOptions();
        ObserverConfiguration.BindInto(options, new ConfigurationBuilder().AddInMemoryCollection(settings!).Build(), null);
        return options;
    }

    [Test]
    public void EachAccount_InheritsTheServers_AndMayOverrideAnyKey_WithoutChangingTheOthers()
    {
        var options = Bound(With(("Accounts:1:Primary:Host", "10.0.0.9"), ("Accounts:1:Primary:Port", "1143"), ("Replica:CommandTimeout", "00:00:09")));
        var (alice, bob) = (options.Accounts[0], options.Accounts[1]);
        Assert.That((alice.Name, alice.Primary.Host, alice.Primary.Port, alice.Primary.Username), Is.EqualTo(("alice", "127.0.0.1", 1, "alice")));
        Assert.That((bob.Name, bob.Primary.Host, bob.Primary.Port, bob.Primary.Username), Is.EqualTo(("bob", "10.0.0.9", 1143, "bob")));
        Assert.That(bob.Primary.Security, Is.EqualTo(Observer.Mail.ImapSecurity.None), "what bob does not override, he inherits");
        Assert.That((alice.Replica.CommandTimeout, bob.Replica.CommandTimeout), Is.EqualTo((TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(9))));
        Assert.That(options.Primary.Host, Is.EqualTo("127.0.0.1"), "an account's override stays its own");
        Assert.That(bob.Primary.Section, Is.EqualTo("Accounts:1:Primary"), "its errors name the keys to fix");
        Assert.That(options.EffectiveAccounts.Select(a => a.Name), Is.EqualTo(new[] { "alice", "bob" }));
    }

    [Test]
    public void WithoutAnAccountList_TheOneAccountIsPrimaryAndReplica()
    {
        var options = Bound(new Dictionary<string, string> { ["Primary:Host"] = "p", ["Primary:Username"] = "u", ["Replica:Host"] = "r" });
        Assert.That(options.HasAccountList, Is.False);
        var only = options.EffectiveAccounts.Single();
        Assert.That((only.Name, only.Primary, only.Replica), Is.EqualTo(("", options.Primary, options.Replica)));
    }

    [Test]
    public async Task AccountsFromTheEnvironment_AreTheAccounts_AndAnUnknownNameListsThem()
    {
        var variables = new Dictionary<string, string>
        {
            ["OBSERVER_Accounts__0__Name"] = "carol",
            ["OBSERVER_Accounts__0__Primary__Username"] = "carol",
            ["OBSERVER_Accounts__0__Primary__Password"] = "pc",
            ["OBSERVER_Accounts__0__Replica__Username"] = "carol",
            ["OBSERVER_Accounts__0__Replica__Password"] = "rc",
        };
        foreach (var (name, value) in variables) Environment.SetEnvironmentVariable(name, value);
        try
        {
            var settings = TwoAccounts.Where(kv => !kv.Key.StartsWith("Accounts:", StringComparison.Ordinal)).ToDictionary();
            var known = await Run(settings, "status", "--account", "carol");
            Assert.That(known.Err, Does.StartWith("observer: no state database at "), "carol was accepted");
            var unknown = await Run(settings, "status", "--account", "dave");
            Assert.That((unknown.Code, unknown.Err), Is.EqualTo((2, "observer: --account dave: no such account in the settings; the accounts are carol\n")));
        }
        finally
        {
            foreach (var name in variables.Keys) Environment.SetEnvironmentVariable(name, null);
        }
    }

    [TestCase("Accounts:1:Name", null, "Accounts:1:Name is not set; name each account")]
    [TestCase("Accounts:1:Name", "ALICE", "Accounts:1:Name 'ALICE' is also Accounts:0's; each account needs a name of its own")]
    [TestCase("Accounts:1:Name", "bob smith", "Accounts:1:Name 'bob smith' may hold only letters, digits and . _ @ + -")]
    [TestCase("Accounts:1:Primary:Password", null,
        "Accounts:1:Primary:Password is not set; set Accounts:1:Primary:PasswordFile or Accounts:1:Primary:PasswordCommand, or OBSERVER_Accounts__1__Primary__Password in the environment")]
    [TestCase("Accounts:1:Replica:Port", "99999", "Accounts:1:Replica:Port is 99999")]
    [TestCase("Accounts:1:Replica:Username", "alice", "Accounts:1 (bob): its replica login alice@127.0.0.1:2 is also Accounts:0 (alice)'s")]
    [TestCase("Accounts:1:Replica:Port", "1", "Accounts:1 (bob): Primary and Replica are the same account")]
    [TestCase("Accounts:1:Primary:Username", "alice", "Accounts:1 (bob): its primary login alice@127.0.0.1:1 is also Accounts:0 (alice)'s; give each account its own Primary:Username")]
    [TestCase("AccountsFile", "bad\0name", "'bad\\0name' is not a valid path")]
    [TestCase("Accounts:1:Primry:Host", "x", "Accounts:1 has no setting 'Primry'; an account has Name, Primary and Replica")]
    [TestCase("Accounts:1:Primary:Hots", "x", "Accounts:1:Primary has no setting 'Hots'")]
    [TestCase("Accounts:1:Primary:MasterUserSeparator", "*", "Accounts:1:Primary:MasterUserSeparator is set but Accounts:1:Primary:MasterUser is not")]
    public async Task Mistakes_AreOneLineNamingTheAccountsKey(string key, string? value, string expected)
    {
        var (code, _, errors) = await Run(With((key, value)), "status");
        Assert.That(code, Is.EqualTo(2), errors);
        Assert.That(errors, Does.StartWith("observer: config: ").And.Contain(expected));
        Assert.That(errors.Trim().Split('\n'), Has.Length.EqualTo(1), errors);
    }

    [Test]
    public async Task AMasterUserWithoutSeparator_NeedsSaslPlain()
    {
        var (code, _, errors) = await Run(With(("Primary:MasterUser", "admin"), ("Primary:AuthMechanism", "Login")), "status");
        Assert.That(code, Is.EqualTo(2), errors);
        Assert.That(errors, Does.Contain("Accounts:0:Primary:MasterUser without Accounts:0:Primary:MasterUserSeparator logs in by SASL PLAIN; set Accounts:0:Primary:AuthMechanism to Plain or Auto"));
        var withSeparator = await Run(With(("Primary:MasterUser", "admin"), ("Primary:AuthMechanism", "Login"), ("Primary:MasterUserSeparator", "*")), "status");
        Assert.That(withSeparator.Err, Does.StartWith("observer: no state database at "), "user*admin logs in with any mechanism");
    }

    [Test]
    public async Task AnAccountsFile_AddsOneAccountALine_WithTheTopLevelLogins()
    {
        var file = Path.Combine(_dir, "accounts.txt");
        await File.WriteAllTextAsync(file, "# office\n\ncarol\ndave dave@example.com   # his primary login differs\n  erin erin.p erin.r\n");
        var options = Bound(With(("AccountsFile", file), ("Primary:MasterUser", "admin")));
        Assert.That(options.EffectiveAccounts.Select(a => (a.Name, a.Primary.Username, a.Replica.Username)), Is.EqualTo(new[]
        {
            ("alice", "alice", "alice"), ("bob", "bob", "bob"),
            ("carol", "carol", "carol"), ("dave", "dave@example.com", "dave@example.com"), ("erin", "erin.p", "erin.r"),
        }));
        var erin = options.Accounts[^1];
        Assert.That((erin.Key, erin.Primary.MasterUser, erin.Primary.Port), Is.EqualTo(("accounts.txt line 5", "admin", 1)));
    }

    [TestCase("carol\nalice\n", "accounts.txt line 2: 'alice' is also Accounts:0's; each account needs a name of its own")]
    [TestCase("carol\nbob smith jones x\n", "AccountsFile ")]
    [TestCase("carol\nbob smith jones x\n", "line 2 has 4 fields; write NAME [PRIMARY-USER [REPLICA-USER]], one account a line")]
    [TestCase("car/ol\n", "accounts.txt line 1: 'car/ol' may hold only letters, digits and . _ @ + -")]
    public async Task AccountsFileMistakes_NameTheLine(string text, string expected)
    {
        var file = Path.Combine(_dir, "accounts.txt");
        await File.WriteAllTextAsync(file, text);
        var (code, _, errors) = await Run(With(("AccountsFile", file), ("Primary:Password", "p"), ("Replica:Password", "r")), "status");
        Assert.That(code, Is.EqualTo(2), errors);
        Assert.That(errors, Does.Contain(expected));
        Assert.That(errors.Trim().Split('\n'), Has.Length.EqualTo(1), errors);
    }

    [Test]
    public async Task AccountsFile_WithoutTheSharedPassword_IsToldOnce_NotOnceALine()
    {
        var file = Path.Combine(_dir, "accounts.txt");
        await File.WriteAllLinesAsync(file, Enumerable.Range(1, 50).Select(i => $"user{i}"));
        var settings = TwoAccounts.Where(kv => !kv.Key.StartsWith("Accounts:", StringComparison.Ordinal)).ToDictionary();
        settings["AccountsFile"] = file;
        settings["Replica:Username"] = "ignored";
        var (code, _, errors) = await Run(settings, "status");
        Assert.That(code, Is.EqualTo(2), errors);
        Assert.That(errors.Trim().Split('\n'), Is.EqualTo(new[]
        {
            "observer: config: accounts.txt line 1 (user1): Primary:Password is not set; set Primary:PasswordFile or Primary:PasswordCommand, or OBSERVER_Primary__Password in the environment",
            "observer: config: accounts.txt line 1 (user1): Replica:Password is not set; set Replica:PasswordFile or Replica:PasswordCommand, or OBSERVER_Replica__Password in the environment",
        }));
    }

    [Test]
    public async Task AMissingAccountsFile_IsNamed()
    {
        var (code, _, errors) = await Run(With(("AccountsFile", Path.Combine(_dir, "nope.txt"))), "status");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(errors, Does.StartWith($"observer: config: cannot read AccountsFile {Path.Combine(_dir, "nope.txt")}: "));
    }

    [Test]
    public async Task AnAccountsFileOthersMayWrite_IsRefused_WhenItsAccountsLogInAsAMasterUser()
    {
        var file = Path.Combine(_dir, "accounts.txt");
        await File.WriteAllTextAsync(file, "carol\n");
        File.SetUnixFileMode(file, (UnixFileMode)0b110_110_100);
        var settings = With(("AccountsFile", file), ("Primary:MasterUser", "admin"), ("Primary:Password", "p"), ("Replica:Password", "r"));
        var (code, _, errors) = await Run(settings, "status");
        Assert.That((code, errors), Is.EqualTo((2, $"observer: config: AccountsFile {file} may be written by others than its owner, and its accounts log in as a master user: "
            + $"whoever edits it could copy any mailbox anywhere; chmod go-w {file}\n")));
        File.SetUnixFileMode(file, (UnixFileMode)0b110_100_100);
        Assert.That((await Run(settings, "status")).Err, Does.StartWith("observer: no state database at "));
    }

    [Test]
    public async Task WithNoAccountsYet_SyncAndStatusSaySo()
    {
        var file = Path.Combine(_dir, "accounts.txt");
        await File.WriteAllTextAsync(file, "# nobody yet\n");
        var settings = TwoAccounts.Where(kv => !kv.Key.StartsWith("Accounts:", StringComparison.Ordinal)).ToDictionary();
        settings["AccountsFile"] = file;
        var sync = await Run(settings, "sync");
        Assert.That((sync.Code, sync.Out), Is.EqualTo((1, "sync: the settings name no accounts; add them to Accounts or the AccountsFile\n")));
        var status = await Run(settings, "status");
        Assert.That((status.Code, status.Out), Is.EqualTo((1, $"state: {Path.Combine(_dir, "s.db")}\nhealth: needs attention: the settings name no accounts; add them to Accounts or the AccountsFile\n")));
        var named = await Run(settings, "status", "--account", "x");
        Assert.That(named.Err, Is.EqualTo("observer: --account x: the settings name no accounts yet; add them to Accounts or the AccountsFile\n"));
    }

    [Test]
    public async Task Forget_MatchesNamesExactly_AndTakesTheUnnamedAccountOfOldSettings()
    {
        using (var store = Observer.State.StateStore.Open(Path.Combine(_dir, "s.db")))
        {
            store.Replicas.Ensure("replica", "p", "r");
            store.Replicas.Ensure("replica", "p", "r", "Carol");
        }
        var carol = await Run(TwoAccounts, "forget", "carol");
        Assert.That((carol.Code, carol.Err), Is.EqualTo((2, "observer: the state holds no account named 'carol', but one named 'Carol'; names are matched exactly\n")));
        var alice = await Run(TwoAccounts, "forget", "alice");
        Assert.That(alice.Err, Does.StartWith("observer: account alice is still in the settings (Accounts:0)"));
        var unnamed = await Run(TwoAccounts, "forget", "");
        Assert.That((unnamed.Code, unnamed.Out), Is.EqualTo((0, "forget: account \"\"'s state is deleted (0 folders); the mail on both servers is untouched\n")), unnamed.Err);
        Assert.That((await Run(TwoAccounts, "forget", "Carol")).Code, Is.Zero);
        using var after = Observer.State.StateStore.Open(Path.Combine(_dir, "s.db"));
        Assert.That(after.Replicas.All(), Is.Empty);
    }

    [Test]
    public async Task TheTopLevelLogins_NeedNoUserWhenAccountsGiveThem()
    {
        var (code, _, errors) = await Run(TwoAccounts, "status");
        Assert.That((code, errors), Is.EqualTo((2, $"observer: no state database at {Path.Combine(_dir, "s.db")}; run observer sync or observer run first\n")));
    }

    [Test]
    public async Task AccountOption_WithoutAnAccountList_IsAUsageError()
    {
        var single = new Dictionary<string, string>
        {
            ["Primary:Host"] = "127.0.0.1", ["Primary:Port"] = "1", ["Primary:Security"] = "None", ["Primary:Username"] = "a", ["Primary:Password"] = "x",
            ["Replica:Host"] = "127.0.0.1", ["Replica:Port"] = "2", ["Replica:Security"] = "None", ["Replica:Username"] = "b", ["Replica:Password"] = "y",
        };
        var (code, _, errors) = await Run(single, "sync", "--account", "alice");
        Assert.That((code, errors), Is.EqualTo((2, "observer: --account alice: these settings have no Accounts list, so there is only one account; leave out --account\n")));
    }

    [Test]
    public async Task Approve_WithSeveralAccounts_MustNameOne()
    {
        var (code, _, errors) = await Run(TwoAccounts, "approve", "--all");
        Assert.That((code, errors), Is.EqualTo((2, "observer: approve: name the account whose deletions to approve with --account NAME; the accounts are alice, bob\n")));
    }
}

using NUnit.Framework;
using Observer.Cli;
using Observer.Configuration;
using Microsoft.Extensions.Configuration;

namespace Observer.Tests;

/// <summary>The Replicas list (issue 12): how it binds, what each account gets on each replica, and one line for every mistake.</summary>
[NonParallelizable]
public class ReplicaSettingsTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-replicas-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static readonly Dictionary<string, string> Valid = new()
    {
        ["Primary:Host"] = "127.0.0.1",
        ["Primary:Port"] = "1",
        ["Primary:Security"] = "None",
        ["Primary:Username"] = "a",
        ["Primary:Password"] = "secret-a",
        ["Replicas:0:Name"] = "standby",
        ["Replicas:0:Host"] = "127.0.0.1",
        ["Replicas:0:Port"] = "2",
        ["Replicas:0:Security"] = "None",
        ["Replicas:0:Username"] = "b",
        ["Replicas:0:Password"] = "secret-b",
        ["Replicas:1:Name"] = "yesterday",
        ["Replicas:1:Policy"] = "Delayed",
        ["Replicas:1:Delay"] = "1.00:00:00",
        ["Replicas:1:Host"] = "127.0.0.1",
        ["Replicas:1:Port"] = "3",
        ["Replicas:1:Security"] = "None",
        ["Replicas:1:Username"] = "b",
        ["Replicas:1:Password"] = "secret-c",
        ["Replicas:2:Name"] = "archive",
        ["Replicas:2:Policy"] = "Archive",
        ["Replicas:2:ArchiveKeyword"] = "$Expunged",
        ["Replicas:2:Host"] = "127.0.0.1",
        ["Replicas:2:Port"] = "4",
        ["Replicas:2:Security"] = "None",
        ["Replicas:2:Username"] = "b",
        ["Replicas:2:Password"] = "secret-d",
    };

    private static Dictionary<string, string> With(params (string Key, string? Value)[] changes)
    {
        var settings = new Dictionary<string, string>(Valid);
        foreach (var (key, value) in changes)
            if (value is null) settings.Remove(key);
            else settings[key] = value;
        return settings;
    }

    private async Task<(int Code, string Out, string Err)> StatusAsync(Dictionary<string, string> settings)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        var code = await ObserverProgram.RunAsync(["status", "--State:Path=" + Path.Combine(_dir, "s.db"), .. settings.Select(kv => $"--{kv.Key}={kv.Value}")], output, errors);
        return (code, output.ToString(), errors.ToString());
    }

    private static ObserverOptions Bind(Dictionary<string, string> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings!).Build();
        var options = new ObserverOptions();
        ObserverConfiguration.BindInto(options, configuration, null);
        return options;
    }

    [Test]
    public void EachReplica_BindsItsPolicy_AndEveryAccountGetsAUnitOnEachReplica_WithItsOwnUsername()
    {
        var options = Bind(With(("Accounts:0:Name", "alice"), ("Accounts:0:Primary:Username", "alice"), ("Accounts:0:Replica:Username", "alice-copy"),
            ("Accounts:1:Name", "bob"), ("Accounts:1:Primary:Username", "bob"), ("Accounts:1:Replica:Username", "bob-copy")));
        Assert.That(options.Replicas.Select(r => r.Target), Is.EqualTo(new[]
        {
            new Replication.ReplicaTarget("standby"),
            new Replication.ReplicaTarget("yesterday", Replication.ReplicaPolicy.Delayed, TimeSpan.FromDays(1)),
            new Replication.ReplicaTarget("archive", Replication.ReplicaPolicy.Archive, ArchiveKeyword: "$Expunged"),
        }));
        var units = options.Units;
        Assert.That(units.Select(u => u.Id), Is.EqualTo(new[] { "alice/standby", "alice/yesterday", "alice/archive", "bob/standby", "bob/yesterday", "bob/archive" }));
        Assert.That(units.Select(u => (u.Replica.Port, u.Replica.Username, u.Replica.Password)).Take(3),
            Is.EqualTo(new[] { (2, "alice-copy", "secret-b"), (3, "alice-copy", "secret-c"), (4, "alice-copy", "secret-d") }),
            "each replica's server and password, with the account's own username over them");
        Assert.That(new ObserverOptionsValidator().Validate(null, options).Failed, Is.False);
    }

    [Test]
    public void WithoutAReplicasList_TheReplicaSection_IsOneMirrorNamedReplica()
    {
        var options = Bind(new Dictionary<string, string>
        {
            ["Primary:Host"] = "127.0.0.1", ["Primary:Username"] = "a", ["Primary:Password"] = "x",
            ["Replica:Host"] = "127.0.0.1", ["Replica:Port"] = "2", ["Replica:Username"] = "b", ["Replica:Password"] = "y",
        });
        Assert.That(options.Units.Select(u => (u.Id, u.Target, u.Replica.Port)), Is.EqualTo(new[] { ("", new Replication.ReplicaTarget("replica"), 2) }));
        Assert.That(options.RunsSeveral, Is.False);
    }

    [Test]
    public async Task AValidList_IsAccepted()
    {
        var (code, _, errors) = await StatusAsync(Valid);
        Assert.That((code, errors), Is.EqualTo((2, $"observer: no state database at {Path.Combine(_dir, "s.db")}; run observer sync or observer run first\n")));
    }

    [TestCase("Replica:Host", "127.0.0.1", "both Replica and Replicas are set; with a Replicas list, give each replica's server and login in its entry and remove the Replica section")]
    [TestCase("Replicas:1:Name", "standby", "Replicas:1:Name 'standby' is also Replicas:0's; each replica needs a name of its own")]
    [TestCase("Replicas:0:Name", "stand by", "Replicas:0:Name 'stand by' may hold only letters, digits and . _ - (at most 64)")]
    [TestCase("Replicas:0:Policy", "Mirrored", "Replicas:0:Policy has an invalid value; it must be Mirror, Delayed or Archive")]
    [TestCase("Replicas:0:Delay", "01:00:00", "Replicas:0:Delay only applies to a Delayed replica; set Replicas:0:Policy=Delayed, or remove the Delay")]
    [TestCase("Replicas:1:Delay", "00:00:00", "Replicas:1:Delay is 00:00:00; a Delayed replica needs one between 00:00:01 and 90.00:00:00, e.g. 1.00:00:00 for a day")]
    [TestCase("Replicas:1:ArchiveKeyword", "$Gone", "Replicas:1:ArchiveKeyword only applies to an Archive; set Replicas:1:Policy=Archive, or remove the ArchiveKeyword")]
    [TestCase("Replicas:2:ArchiveKeyword", "two words", "Replicas:2:ArchiveKeyword 'two words' is not an IMAP keyword; use letters, digits and $ _ - . such as $Expunged")]
    [TestCase("Replicas:1:Port", "2", "Replicas:1 logs in to b@127.0.0.1:2, as Replicas:0 does; give each replica an account of its own")]
    [TestCase("Replicas:2:Port", "1", "Primary and Replicas:2 are the same account; point Replicas:2 at the server that should receive the copy")]
    [TestCase("Replicas:0:Hots", "x", "Replicas:0 has no setting 'Hots'; check the spelling (see README, Configuration)")]
    [TestCase("Replication:PrimaryName", "main site", "Replication:PrimaryName 'main site' may hold only letters, digits and . _ - (at most 64), e.g. primary or the server's host name")]
    public async Task AMistake_IsOneLine_NamingTheKey(string key, string value, string expected)
    {
        var settings = With((key, value));
        if (key == "Replicas:2:Port") settings["Replicas:2:Username"] = "a";
        var (code, _, errors) = await StatusAsync(settings);
        Assert.That((code, errors), Is.EqualTo((2, $"observer: config: {expected}\n")));
    }

    [Test]
    public async Task AReplicaWithoutItsHost_IsNamedByItsEntry()
    {
        var (code, _, errors) = await StatusAsync(With(("Replicas:2:Host", null)));
        Assert.That((code, errors), Is.EqualTo((2, "observer: config: Replicas:2:Host is not set; give the replica archive server's host name\n")));
    }

    [Test]
    public async Task ReplicaOnTheCommandLine_MustNameAReplicaOfTheList()
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        var code = await ObserverProgram.RunAsync(["status", "--replica", "nowhere", "--State:Path=" + Path.Combine(_dir, "s.db"), .. Valid.Select(kv => $"--{kv.Key}={kv.Value}")], output, errors);
        Assert.That((code, errors.ToString()), Is.EqualTo((2, "observer: --replica nowhere: no such replica in the settings; the replicas are standby, yesterday, archive\n")));
    }

    [Test]
    public void AfterAPromotion_ThePromotedReplicaIsReadFrom_AndTheOldPrimaryIsAMirrorOfIt_ForEveryAccount()
    {
        var options = Bind(With(("Accounts:0:Name", "alice"), ("Accounts:0:Primary:Username", "alice"), ("Accounts:0:Replica:Username", "alice-copy")));
        options.PromotedInState("standby");
        Assert.That(options.Units.Select(u => (u.Id, u.Target.Policy, u.Primary.Port, u.Primary.Username, u.Replica.Port, u.Replica.Username)), Is.EqualTo(new[]
        {
            ("alice/primary", Replication.ReplicaPolicy.Mirror, 2, "alice-copy", 1, "alice"),
            ("alice/yesterday", Replication.ReplicaPolicy.Delayed, 2, "alice-copy", 3, "alice-copy"),
            ("alice/archive", Replication.ReplicaPolicy.Archive, 2, "alice-copy", 4, "alice-copy"),
        }));
        Assert.That((options.CurrentPrimaryName, options.ReplicaNames), Is.EqualTo(("standby", new[] { "primary", "yesterday", "archive" })));
        Assert.That(new ObserverOptionsValidator().Validate(null, options).Failed, Is.False, "the settings are checked as written");
    }

    [Test]
    public void AfterAPromotion_OfTheSingleReplica_TheSettingsPrimaryIsItsOneReplica()
    {
        var options = Bind(new Dictionary<string, string>
        {
            ["Primary:Host"] = "127.0.0.1", ["Primary:Username"] = "a", ["Primary:Password"] = "x",
            ["Replica:Host"] = "127.0.0.1", ["Replica:Port"] = "2", ["Replica:Username"] = "b", ["Replica:Password"] = "y",
            ["Replication:PrimaryName"] = "mail1",
        });
        options.PromotedInState("replica");
        Assert.That(options.Units.Select(u => (u.Id, u.Primary.Port, u.Primary.Username, u.Replica.Username)), Is.EqualTo(new[] { ("/mail1", 2, "b", "a") }));
        Assert.That(options.RunsSeveral, Is.True, "output names the replica, now the old primary");
    }

    [Test]
    public void APrimaryNameThatIsAlsoAReplicasName_IsRefusedOnlyOnceAPromotionNeedsIt()
    {
        var options = Bind(With(("Replication:PrimaryName", "Standby")));
        Assert.That(new ObserverOptionsValidator().Validate(null, options).Failed, Is.False, "settings from before failover may name a replica primary");
        options.PromotedInState("yesterday");
        Assert.That(new ObserverOptionsValidator().Validate(null, options).Failures,
            Does.Contain("Replication:PrimaryName 'Standby' is also a replica's name; give the primary a name of its own, such as its host name"));
    }

    [Test]
    public void APromotionOfAReplicaTheSettingsNoLongerHave_IsOneLine()
    {
        var options = Bind(Valid);
        options.PromotedInState("east");
        var result = new ObserverOptionsValidator().Validate(null, options);
        Assert.That(result.Failures, Is.EqualTo(new[]
        {
            $"the state database {options.State.Path} says replica 'east' was promoted to primary (observer promote), but the settings have no replica 'east'; put its entry back in Replicas (or set Replication:ReplicaName to 'east')",
        }));
    }
}

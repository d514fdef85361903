using NUnit.Framework;
using Observer.Cli;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>Every settings mistake ends in exit code 2 and one line that names the key and the fix.</summary>
[NonParallelizable]
public class ConfigurationTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-config-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static readonly Dictionary<string, string> Valid = new()
    {
        ["Primary:Host"] = "127.0.0.1",
        ["Primary:Port"] = "1",
        ["Primary:Security"] = "None",
        ["Primary:Username"] = "a",
        ["Primary:Password"] = "secret-a",
        ["Replica:Host"] = "127.0.0.1",
        ["Replica:Port"] = "2",
        ["Replica:Security"] = "None",
        ["Replica:Username"] = "b",
        ["Replica:Password"] = "secret-b",
    };

    private async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        var code = await ObserverProgram.RunAsync(args, output, errors);
        return (code, output.ToString(), errors.ToString());
    }

    private string[] StatusWith(Dictionary<string, string> settings) =>
        ["status", "--State:Path=" + Path.Combine(_dir, "s.db"), .. settings.Select(kv => $"--{kv.Key}={kv.Value}")];

    private static Dictionary<string, string> With(params (string Key, string? Value)[] changes)
    {
        var settings = new Dictionary<string, string>(Valid);
        foreach (var (key, value) in changes)
            if (value is null) settings.Remove(key);
            else settings[key] = value;
        return settings;
    }

    /// <summary>Settings that pass: status goes on to look for the state database, which these tests never create.</summary>
    private static void Accepted((int Code, string Out, string Err) result)
    {
        Assert.That(result.Err, Does.StartWith("observer: no state database at "), "the settings were accepted");
        Assert.That(result.Code, Is.EqualTo(2), "status: not running");
    }

    [Test]
    public async Task ValidSettings_StatusRuns()
    {
        Accepted(await Run(StatusWith(Valid)));
    }

    [TestCase("Primary:Host", null, "Primary:Host is not set")]
    [TestCase("Replica:Username", null, "Replica:Username is not set")]
    [TestCase("Primary:Password", null, "Primary:Password is not set; set Primary:PasswordFile or Primary:PasswordCommand, or OBSERVER_Primary__Password")]
    [TestCase("Primary:Port", "abc", "Primary:Port has an invalid value; it must be a whole number")]
    [TestCase("Primary:Port", "70000", "Primary:Port is 70000")]
    [TestCase("Replica:Security", "Maybe", "Replica:Security has an invalid value; it must be None, StartTls or Tls")]
    [TestCase("Primary:Compress", "Always", "Primary:Compress has an invalid value; it must be Auto, On or Off")]
    [TestCase("Replication:MaxDeletePercent", "150", "Replication:MaxDeletePercent is 150")]
    [TestCase("Replication:PollInterval", "soon", "Replication:PollInterval has an invalid value; it must be a duration such as 00:00:30")]
    [TestCase("Replication:MaxConnections", "1", "Replication:MaxConnections is 1")]
    [TestCase("Replication:ConnectionBudget", "5", "Replication:ConnectionBudget is 5; with MaxConnections 6 it must be at least 7")]
    [TestCase("Replication:JournalRetention", "-1.00:00:00", "Replication:JournalRetention is -1.00:00:00; it cannot be negative")]
    [TestCase("Replication:MoveMinimumBytes", "-1", "Replication:MoveMinimumBytes is -1; it must be 0 (move every message) or more")]
    [TestCase("Replication:AppendLanes", "9", "Replication:AppendLanes is 9; it must be between 1 and 4")]
    [TestCase("Replication:Verify", "Maybe", "Replication:Verify has an invalid value")]
    [TestCase("Primary:Hots", "typo", "Primary has no setting 'Hots'")]
    [TestCase("Primary:PasswordFile", "/nonexistent/pw", "Primary:PasswordFile '/nonexistent/pw' does not exist")]
    [TestCase("Primary:AuthMechanism", "Kerberos", "Primary:AuthMechanism is 'Kerberos'")]
    public async Task BadValue_IsExitCode2AndOneLine(string key, string? value, string expected)
    {
        var (code, _, errors) = await Run(StatusWith(With((key, value))));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(errors, Does.Contain(expected));
        Assert.That(errors.Trim().Split('\n'), Has.All.StartWith("observer: config: "));
        Assert.That(StackTraces.Find(errors), Is.Null, "no stack trace");
    }

    [TestCase("State:Provider=Postgres", "State:Provider has an invalid value")]
    [TestCase("State:Provider=PostgreSql", "State:Provider is PostgreSql but State:ConnectionString is empty")]
    [TestCase("State:ConnectionString=Host=db;Username=observer", "State:ConnectionString is set but State:Provider is Sqlite")]
    [TestCase("State:Provider=PostgreSql|State:ConnectionString=Hots=db", "State:ConnectionString is not a valid PostgreSQL connection string")]
    [TestCase("State:Provider=PostgreSql|State:ConnectionString=Host=db", "State:ConnectionString names no Username")]
    [TestCase("State:Provider=PostgreSql|State:ConnectionString=Host=db;Username=o|State:LeaseTime=00:00:01", "State:LeaseTime is 00:00:01; it must be between 00:00:05 and 00:30:00")]
    [TestCase("State:Provider=PostgreSql|State:ConnectionString=Host=db;Username=o|State:PasswordFile=/nonexistent/pg", "State:PasswordFile '/nonexistent/pg' does not exist")]
    public async Task BadSharedStateSettings_AreOneLineEach(string settings, string expected)
    {
        var changes = settings.Split('|').Select(kv => kv.Split('=', 2)).Select(kv => (kv[0], (string?)kv[1])).ToArray();
        var (code, _, errors) = await Run(StatusWith(With(changes)));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(errors, Does.Contain(expected));
        Assert.That(errors.Trim().Split('\n'), Has.All.StartWith("observer: config: "));
        Assert.That(StackTraces.Find(errors), Is.Null, "no stack trace");
    }

    [Test]
    public async Task ASharedStateThatCannotBeReached_IsOneLineNamingIt_WithoutThePassword()
    {
        var unreachable = With(("State:Provider", "PostgreSql"),
            ("State:ConnectionString", $"Host=127.0.0.1;Port={FreePort.Next()};Username=observer;Database=shared;Timeout=3"), ("State:Password", "pg-secret-password"));
        var (code, _, errors) = await Run(StatusWith(unreachable));
        Assert.That(code, Is.EqualTo(2), "status: not connected, critical for a monitoring check");
        Assert.That(errors, Does.StartWith("observer: the state database, PostgreSQL database shared on 127.0.0.1:").And.Contain("cannot be reached"));
        Assert.That(errors, Does.Not.Contain("pg-secret-password"));
        Assert.That(errors.Trim().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(StackTraces.Find(errors), Is.Null, "no stack trace");
        var (syncCode, _, syncErrors) = await Run(["sync", .. StatusWith(unreachable).Skip(1)]);
        Assert.That(syncCode, Is.EqualTo(1), "an outage, not a mistake in the settings: systemd starts the service again");
        Assert.That(syncErrors, Does.Contain("cannot be reached").And.Not.Contain("pg-secret-password"));
    }

    [Test]
    public async Task PlaintextLoginToARemoteHost_IsRefusedUnlessAllowed()
    {
        var (code, _, errors) = await Run(StatusWith(With(("Replica:Host", "mail.example.com"))));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(errors, Does.Contain("refusing to send the password in clear text to mail.example.com").And.Contain("Replica:AllowPlaintextLogin=true"));
        Accepted(await Run(StatusWith(With(("Replica:Host", "mail.example.com"), ("Replica:AllowPlaintextLogin", "true")))));
        Accepted(await Run(StatusWith(With(("Replica:Host", "mail.example.com"), ("Replica:Security", "Tls")))));
    }

    [Test]
    public async Task SameAccountOnBothSides_IsRefused()
    {
        var (code, _, errors) = await Run(StatusWith(With(("Replica:Port", "1"), ("Replica:Username", "a"))));
        Assert.That((code, errors), Is.EqualTo((2, "observer: config: Primary and Replica are the same account; point Replica at the server that should receive the copy\n")));
    }

    [Test]
    public async Task MissingSettingsFile_IsNamed()
    {
        var (code, _, errors) = await Run("status", "--config", Path.Combine(_dir, "nope.json"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(errors, Does.Contain("nope.json does not exist"));
    }

    [Test]
    public async Task BrokenJson_IsNamed()
    {
        var file = Path.Combine(_dir, "bad.json");
        await File.WriteAllTextAsync(file, "{ \"Primary\": { \"Host\": ");
        var (code, _, errors) = await Run("status", "--config", file);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(errors, Does.Contain("bad.json"));
        Assert.That(errors.Trim().Split('\n'), Has.Length.EqualTo(1));
    }

    [Test]
    public async Task Precedence_FileThenEnvironmentThenCommandLine()
    {
        var file = Path.Combine(_dir, "settings.json");
        await File.WriteAllTextAsync(file, """
            { "Primary": { "Host": "127.0.0.1", "Port": 1, "Security": "None", "Username": "a", "Password": "x" },
              "Replica": { "Host": "127.0.0.1", "Port": 2, "Security": "None", "Username": "b", "Password": "y" },
              "State": { "Path": "from-file.db" } }
            """);
        Environment.SetEnvironmentVariable("OBSERVER_State__Path", Path.Combine(_dir, "from-env.db"));
        try
        {
            var viaEnv = await Run("status", "--config", file);
            Assert.That(viaEnv.Err, Does.Contain("from-env.db"));
            var viaArgs = await Run("status", "--config", file, "--State:Path=" + Path.Combine(_dir, "from-args.db"));
            Assert.That(viaArgs.Err, Does.Contain("from-args.db"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("OBSERVER_State__Path", null);
        }
        var viaFile = await Run("status", "--config", file);
        Assert.That(viaFile.Err, Does.Contain(Path.Combine(_dir, "from-file.db")), "a relative path is taken from the settings file's folder");
    }

    [Test]
    public async Task PasswordFile_IsReadAndNeverPrinted()
    {
        var pw = Path.Combine(_dir, "pw");
        await File.WriteAllTextAsync(pw, "file-secret-123\n");
        var result = await Run(StatusWith(With(("Primary:Password", null), ("Primary:PasswordFile", pw))));
        Accepted(result);
        Assert.That(result.Out + result.Err, Does.Not.Contain("file-secret-123"));
    }

    [Test]
    public async Task UnknownSection_OnTheCommandLine_IsAnErrorLikeAMisspeltKey()
    {
        var (code, _, errors) = await Run([.. StatusWith(Valid), "--Foo:Bar=1"]);
        Assert.That(code, Is.EqualTo(2), errors);
        Assert.That(errors, Is.EqualTo("observer: config: there is no settings section 'Foo' (--Foo:... on the command line); check the spelling: "
            + "the sections are Primary, Replica, Replicas, Accounts, State, Replication, Reconnect, Health, Http and Logging\n"));
    }

    [Test]
    public async Task UnknownSection_InTheEnvironment_IsAnError_ButOtherToolsVariablesAreNot()
    {
        // Put back as it was: the test servers of this run (and of the tests after it) live where it says.
        var servers = Environment.GetEnvironmentVariable("OBSERVER_TESTSERVERS_DIR");
        Environment.SetEnvironmentVariable("OBSERVER_TESTSERVERS_DIR", servers ?? _dir);
        try
        {
            Accepted(await Run(StatusWith(Valid)));
            Environment.SetEnvironmentVariable("OBSERVER_Replicaa__Host", "elsewhere");
            var (code, _, errors) = await Run(StatusWith(Valid));
            Assert.That(code, Is.EqualTo(2), errors);
            Assert.That(errors, Does.StartWith("observer: config: there is no settings section 'Replicaa' (environment variable OBSERVER_Replicaa__...)"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("OBSERVER_TESTSERVERS_DIR", servers);
            Environment.SetEnvironmentVariable("OBSERVER_Replicaa__Host", null);
        }
    }

    [Test]
    public async Task StatePathThatIsAFolder_IsNamedAsSuch()
    {
        var (code, _, errors) = await Run([.. StatusWith(Valid), "--State:Path=" + _dir]);
        Assert.That((code, errors), Is.EqualTo((2, $"observer: config: State:Path {_dir} is a folder; give a file name, e.g. {Path.Combine(_dir, "observer.db")}\n")));
        var sync = await Run([.. StatusWith(Valid).Skip(1).Prepend("sync"), "--State:Path=" + _dir]);
        Assert.That(sync.Code, Is.EqualTo(2), sync.Err);
        Assert.That(sync.Err, Does.Contain($"State:Path {_dir} is a folder"));
    }

    /// <summary>The files an admin starts from are settings Observer accepts, once their secrets exist.</summary>
    [TestCase("deploy/appsettings.sample.json", true)]
    [TestCase("deploy/recipes/gmail.json", false)]
    [TestCase("deploy/recipes/office365.json", false)]
    public async Task ShippedSampleAndRecipes_AreAcceptedSettings(string file, bool primaryFromFile)
    {
        var secret = Path.Combine(_dir, "secret");
        File.WriteAllText(secret, "x\n");
        string[] args = ["status", "--config", Path.Combine(RepoPaths.Root, file), "--State:Path=" + Path.Combine(_dir, "s.db"), "--Replica:PasswordFile=" + secret];
        if (primaryFromFile) args = [.. args, "--Primary:PasswordFile=" + secret];
        Accepted(await Run(args));
    }
}

using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>
/// Accounts opened by a master user on a real primary, so an admin needs one password, not every user's: by SASL
/// PLAIN with the account as authorization identity (Dovecot's master users, Cyrus's proxyservers), and as
/// "user*master" where the server has that form (Dovecot).
/// </summary>
[TestFixture(ServerKind.Dovecot)]
[TestFixture(ServerKind.Cyrus)]
public class MasterUserTests(ServerKind primaryKind)
{
    private static readonly TestAccount Master = new("admin", "master-" + Guid.NewGuid().ToString("N")[..10]);

    private ServerPair _pair = null!;
    private string _dir = "";

    [OneTimeSetUp]
    public async Task StartAsync() => _pair = await ServerPair.StartAsync(primaryKind, ServerKind.Dovecot, "master-" + primaryKind.ToString().ToLowerInvariant(), Master);

    [OneTimeTearDown]
    public async Task StopAsync() => await _pair.DisposeAsync();

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-master-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    /// <summary>The primary's logins name only the account; the master user and its password are given once, at the top.</summary>
    private Dictionary<string, string> Settings(IReadOnlyList<PairAccounts> accounts, string masterPassword)
    {
        var settings = new Dictionary<string, string>
        {
            ["Primary:Host"] = _pair.Primary.Host,
            ["Primary:Port"] = _pair.Primary.Port.ToString(),
            ["Primary:Security"] = "None",
            ["Primary:MasterUser"] = Master.User,
            ["Primary:Password"] = masterPassword,
            ["Replica:Host"] = _pair.Replica.Host,
            ["Replica:Port"] = _pair.Replica.Port.ToString(),
            ["Replica:Security"] = "None",
            ["State:Path"] = Path.Combine(_dir, "state.db"),
            ["Reconnect:SyncAttempts"] = "1",
        };
        for (var i = 0; i < accounts.Count; i++)
        {
            settings[$"Accounts:{i}:Name"] = "user" + i;
            settings[$"Accounts:{i}:Primary:Username"] = accounts[i].Primary.User;
            settings[$"Accounts:{i}:Replica:Username"] = accounts[i].Replica.User;
            settings[$"Accounts:{i}:Replica:Password"] = accounts[i].Replica.Password;
        }
        // On Dovecot the second account logs in as "user*admin" rather than by an authorization identity.
        if (primaryKind == ServerKind.Dovecot) settings["Accounts:1:Primary:MasterUserSeparator"] = "*";
        return settings;
    }

    [Test]
    public async Task OneMasterPassword_OpensEveryAccount_AndIsNeverPrinted()
    {
        var accounts = new List<PairAccounts>();
        for (var i = 0; i < 2; i++)
        {
            var a = await _pair.NewAccountsAsync();
            await using var primary = await a.PrimaryClientAsync();
            await MailFactory.FillAsync(primary, "INBOX", 4 + i);
            await MailFactory.FillAsync(primary, "Archive", 2);
            accounts.Add(a);
        }

        var (code, output, errors) = await ObserverProcess.RunAsync("sync", Settings(accounts, Master.Password), _dir, TimeSpan.FromMinutes(1));
        Assert.That(code, Is.Zero, output + errors);
        foreach (var a in accounts) Assert.That(await a.DifferencesAsync(), Is.Empty);
        Assert.That(output + errors, Does.Not.Contain(Master.Password));

        var refused = await ObserverProcess.RunAsync("sync", Settings(accounts, "not-" + Master.Password), _dir, TimeSpan.FromMinutes(1), "--account", "user0");
        Assert.That(refused.ExitCode, Is.EqualTo(1), refused.Output + refused.Errors);
        Assert.That(refused.Output, Does.Contain($"refused the login for user {accounts[0].Primary.User} as master user admin")
            .And.Contain("check Accounts:0:Primary:Username, Accounts:0:Primary:MasterUser and the master user's password"));
    }
}

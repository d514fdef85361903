using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>
/// Primary:PasswordCommand against the real Dovecot pair, as a token helper is used: run at each login, so a
/// token rotated on the server and in the helper is picked up by the running service at its next connection.
/// </summary>
public class PasswordCommandTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("observer-passcmd-").FullName;
        // The helper: prints the current token, and counts how often it was asked.
        File.WriteAllText(Path.Combine(_dir, "token-helper.sh"), "#!/bin/sh\necho run >> \"$(dirname \"$0\")/calls\"\nhead -n 1 \"$(dirname \"$0\")/token\"\n");
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string StatePath => Path.Combine(_dir, "state.db");

    private int Calls => File.Exists(Path.Combine(_dir, "calls")) ? File.ReadAllLines(Path.Combine(_dir, "calls")).Length : 0;

    private Dictionary<string, string> Settings(PairAccounts accounts)
    {
        var settings = accounts.Settings(StatePath);
        settings.Remove("Primary:Password");
        // Relative to the settings file's folder, as an admin would write it next to appsettings.json.
        settings["Primary:PasswordCommand"] = "sh ./token-helper.sh";
        return settings;
    }

    [Test]
    public async Task Run_PicksUpARotatedToken_AtItsNextLogin_AndKeepsReplicating()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using (var filler = await accounts.PrimaryClientAsync()) await MailFactory.FillAsync(filler, "INBOX", 3);
        File.WriteAllText(Path.Combine(_dir, "token"), accounts.Primary.Password + "\n");
        await using var primaryProxy = FaultProxy.Start(PairFixture.Pair.Primary.Host, PairFixture.Pair.Primary.Port);
        var settings = Settings(accounts);
        settings["Primary:Port"] = primaryProxy.Port.ToString();
        settings["Reconnect:InitialDelay"] = "00:00:00.200";
        await using var observer = ObserverProcess.Start("run", settings, _dir);
        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(60), observer: observer);
        var before = Calls;
        Assert.That(before, Is.GreaterThanOrEqualTo(1), "the helper gave the token");
        Assert.That(observer.Errors, Does.Not.Contain(accounts.Primary.Password), "the token never reaches the log");

        // The token is rotated: the server takes only the new one, and the helper hands it out.
        var rotated = await PairFixture.Pair.Primary.ChangePasswordAsync(accounts.Primary, "tok-" + Guid.NewGuid().ToString("N")[..16]);
        File.WriteAllText(Path.Combine(_dir, "token"), rotated.Password + "\n");
        primaryProxy.CutAll();
        accounts = accounts with { Primary = rotated };
        await using (var user = await accounts.PrimaryClientAsync()) await user.AppendAsync("INBOX", MailFactory.Message("after the rotation"));
        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(60), observer: observer);
        Assert.That(Calls, Is.GreaterThan(before), "logged in again with a token asked for anew");
        Assert.That(observer.Errors, Does.Not.Contain(rotated.Password));
        Assert.That(observer.HasExited, Is.False);

        observer.Terminate();
        Assert.That(await observer.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.Zero, observer.Errors);
    }

    [TestCase("echo 'refresh token rt-SECRET revoked' >&2; exit 3", "Primary:PasswordCommand failed for the primary (exit 3); it is run again at the next attempt")]
    [TestCase("true", "Primary:PasswordCommand printed nothing for the primary")]
    [TestCase("/nonexistent/helper", "Primary:PasswordCommand could not be run for the primary (exit 127")]
    [TestCase("sleep 20", "Primary:PasswordCommand gave no answer within 1 s for the primary")]
    [TestCase("(sleep 20 &); echo wrong-token", "refused the login for user")]
    public async Task Sync_WithAFailingPasswordCommand_SaysSoInOneLine(string command, string expected)
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        var settings = Settings(accounts);
        settings["Primary:PasswordCommand"] = command;
        settings["Primary:PasswordCommandTimeout"] = "00:00:01";
        settings["Reconnect:SyncAttempts"] = "1";
        var (code, output, errors) = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromSeconds(60));
        Assert.That(code, Is.EqualTo(1), output);
        Assert.That(errors, Does.Contain(expected));
        Assert.That(errors, Does.Not.Contain("SECRET"), "a helper's stderr may hold secrets: never shown");
        Assert.That(StackTraces.Find(errors), Is.Null);
    }

    [Test]
    public async Task PasswordCommand_BesideAPasswordFile_IsASettingsMistake()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        var settings = Settings(accounts);
        File.WriteAllText(Path.Combine(_dir, "pw"), "x\n");
        settings["Primary:PasswordFile"] = Path.Combine(_dir, "pw");
        var (code, _, errors) = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromSeconds(60));
        Assert.That((code, errors.Trim()), Is.EqualTo((2, "observer: config: Primary:PasswordCommand and Primary:PasswordFile are both set; keep one")));
    }
}

using System.Text;
using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>Certificates, secrets, file modes, clear-text logins, LOGINDISABLED: each proved on the real executable.</summary>
[NonParallelizable]
public class SecurityTests
{
    private DovecotPair _pair = null!;
    private string _dir = "";

    [OneTimeSetUp]
    public async Task StartAsync() => _pair = await DovecotPair.StartAsync("secure", replicaTls: true);

    [OneTimeTearDown]
    public async Task StopAsync() => await _pair.DisposeAsync();

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-security-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private async Task<(PairAccounts Accounts, Dictionary<string, string> Settings)> TlsSettingsAsync()
    {
        var accounts = await _pair.NewAccountsAsync();
        await using (var primary = await accounts.PrimaryClientAsync()) await MailFactory.FillAsync(primary, "INBOX", 3);
        var settings = accounts.Settings(Path.Combine(_dir, "state.db"));
        settings["Replica:Security"] = "Tls";
        settings["Replica:Port"] = _pair.Replica.TlsPort!.Value.ToString();
        return (accounts, settings);
    }

    [Test]
    public async Task SelfSignedReplicaCertificate_IsRefusedInOneLineThatNamesTheSettings_AndAcceptedWhenPinned()
    {
        var (accounts, settings) = await TlsSettingsAsync();
        var refused = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromSeconds(60));
        Assert.That(refused.ExitCode, Is.EqualTo(1));
        var line = refused.Errors.Trim().Split('\n')[^1];
        Assert.That(line, Does.StartWith("observer: TLS certificate of 127.0.0.1 was refused"));
        Assert.That(line, Does.Contain("Replica:AllowInvalidCertificate=true").And.Contain("Replica:CertificateThumbprint=" + _pair.Replica.CertificateSha256));
        Assert.That(StackTraces.Find(refused.Errors), Is.Null);

        settings["Replica:CertificateThumbprint"] = _pair.Replica.CertificateSha256;
        var pinned = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromSeconds(60));
        Assert.That(pinned.ExitCode, Is.Zero, pinned.Errors);
        Assert.That(await accounts.DifferencesAsync(), Is.Empty);
    }

    [Test]
    public async Task NoPasswordInAnyLogOrFile_AtTraceLevel_ThroughFailuresAndReconnects()
    {
        var (accounts, settings) = await TlsSettingsAsync();
        settings["Replica:AllowInvalidCertificate"] = "true";
        settings["Logging:LogLevel:Default"] = "Trace";
        var secrets = new[] { accounts.Primary.Password, accounts.Replica.Password, "wrong-" + accounts.Replica.Password };
        var seen = new StringBuilder();

        var wrong = new Dictionary<string, string>(settings) { ["Replica:Password"] = secrets[2] };
        var failed = await ObserverProcess.RunAsync("sync", wrong, _dir, TimeSpan.FromSeconds(60));
        Assert.That(failed.ExitCode, Is.EqualTo(1));
        seen.Append(failed.Output).Append(failed.Errors);

        await using var proxy = FaultProxy.Start(_pair.Primary.Host, _pair.Primary.Port);
        settings["Primary:Port"] = proxy.Port.ToString();
        settings["Reconnect:InitialDelay"] = "00:00:00.200";
        await using (var run = ObserverProcess.Start("run", settings, _dir))
        {
            await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(30));
            for (var i = 0; i < 3; i++)
            {
                proxy.CutAll();
                await Task.Delay(1000);
            }
            await using (var primary = await accounts.PrimaryClientAsync()) await primary.AppendAsync("INBOX", MailFactory.Message("after reconnects"));
            await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(30));
            run.Terminate();
            await run.WaitForExitAsync(TimeSpan.FromSeconds(60));
            seen.Append(run.Output).Append(run.Errors);
        }
        var text = seen.ToString();
        Assert.That(text, Does.Contain("LOGIN").Or.Contain("AUTHENTICATE"), "the protocol trace was on");
        Assert.That(text, Does.Contain("refused the login"), "the failure was logged");
        var stateBytes = File.ReadAllBytes(Path.Combine(_dir, "state.db")).Concat(File.Exists(Path.Combine(_dir, "state.db-wal")) ? File.ReadAllBytes(Path.Combine(_dir, "state.db-wal")) : []).ToArray();
        foreach (var secret in secrets)
        {
            Assert.That(text, Does.Not.Contain(secret));
            Assert.That(text, Does.Not.Contain(Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{accounts.Replica.User}\0{secret}"))));
            Assert.That(Encoding.UTF8.GetString(stateBytes), Does.Not.Contain(secret), "the state database holds no password");
        }
    }

    [Test]
    public async Task StateDatabaseAndLock_AreReadableOnlyByTheOwner()
    {
        var (_, settings) = await TlsSettingsAsync();
        settings["Replica:AllowInvalidCertificate"] = "true";
        Assert.That((await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromSeconds(60))).ExitCode, Is.Zero);
        foreach (var file in new[] { "state.db", "state.db-wal", "state.db.lock" }.Select(f => Path.Combine(_dir, f)).Where(File.Exists))
            Assert.That(File.GetUnixFileMode(file), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite), file);
        Assert.That(File.Exists(Path.Combine(_dir, "state.db")), Is.True);
    }

    [Test]
    public async Task ClearTextLoginToAHostThatIsNotLoopback_IsRefusedBeforeConnecting()
    {
        var (accounts, settings) = await TlsSettingsAsync();
        settings["Replica:Host"] = "192.0.2.10";
        settings["Replica:Security"] = "None";
        var (code, _, errors) = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromSeconds(30));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(errors.Trim(), Is.EqualTo("observer: config: Replica: refusing to send the password in clear text to 192.0.2.10; "
            + "set Replica:Security=Tls or StartTls, or Replica:AllowPlaintextLogin=true on a trusted network"));
        Assert.That(errors, Does.Not.Contain(accounts.Replica.Password));
    }

    [Test]
    public async Task LoginDisabledServer_NeverReceivesThePassword()
    {
        var accounts = await _pair.NewAccountsAsync();
        var received = new List<string>();
        await using var fake = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync("IMAP4rev1 LOGINDISABLED");
            while (true)
            {
                var line = await s.ReadLineAsync();
                lock (received) received.Add(line);
                var tag = line.Split(' ')[0];
                await s.SendAsync($"{tag} BAD not now\r\n");
            }
        });
        var settings = accounts.Settings(Path.Combine(_dir, "state.db"));
        settings["Replica:Port"] = fake.Port.ToString();
        var (code, _, errors) = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromSeconds(60));
        Assert.That(code, Is.EqualTo(1));
        Assert.That(errors, Does.Contain("disables LOGIN here (LOGINDISABLED)"));
        lock (received) Assert.That(string.Join('\n', received), Does.Not.Contain(accounts.Replica.Password));
    }
}

using System.Text.RegularExpressions;
using NUnit.Framework;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>
/// Fault 5: one replica folder refuses every APPEND (a Dovecot ACL without the insert right gives
/// NO [NOPERM]). It is put in trouble with the server's words and retried; every other folder goes on;
/// once the ACL is fixed it catches up by itself.
/// </summary>
[NonParallelizable]
public class BadFolderTests
{
    private const string LockedAcl = "Locked owner lrwstekxa\n";
    private const string UnlockedAcl = "Locked owner lrwstipekxa\n";

    private DovecotPair _pair = null!;
    private string _acl = "";
    private string _dir = "";

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        var aclDir = Directory.CreateTempSubdirectory("observer-acl-").FullName;
        File.SetUnixFileMode(aclDir, (UnixFileMode)0b111_101_101);
        _acl = Path.Combine(aclDir, "global-acl");
        await File.WriteAllTextAsync(_acl, LockedAcl);
        File.SetUnixFileMode(_acl, (UnixFileMode)0b110_100_100);
        var config = $"mail_plugins = $mail_plugins acl\nprotocol imap {{\n  mail_plugins = $mail_plugins acl imap_acl\n}}\nplugin {{\n  acl = vfile:{_acl}:cache_secs=1\n}}\n";
        _pair = await DovecotPair.StartAsync("acl", replicaExtraConfig: config);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _pair.DisposeAsync();
        Directory.Delete(Path.GetDirectoryName(_acl)!, recursive: true);
    }

    [SetUp]
    public async Task SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("observer-bad-").FullName;
        // Each test starts with the folder locked; a test that unlocks it must not leave it so for the next.
        await File.WriteAllTextAsync(_acl, LockedAcl);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task FolderThatRefusesAppends_IsInTroubleWithTheServersWords_OthersGoOn_ThenItCatchesUp()
    {
        var accounts = await _pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 5);
        await MailFactory.FillAsync(primary, "Locked", 5);
        await MailFactory.FillAsync(primary, "Other", 5);
        var settings = FaultSettings.For(accounts, Path.Combine(_dir, "state.db"));
        await using var observer = ObserverProcess.Start("run", settings, _dir);

        await Eventually.HoldsAsync(async () => (await StatusAsync(settings)).Contains("Locked: APPEND refused by the server: [NOPERM] Permission denied"),
            TimeSpan.FromSeconds(30));
        await primary.AppendAsync("INBOX", MailFactory.Message("still replicated"));
        await primary.AppendAsync("Other", MailFactory.Message("also replicated"));
        await Eventually.HoldsAsync(async () =>
        {
            var r = await accounts.ReplicaSnapshotAsync();
            return r.Folders.GetValueOrDefault("INBOX")?.Count == 6 && r.Folders.GetValueOrDefault("Other")?.Count == 6;
        }, TimeSpan.FromSeconds(30));

        var attemptsBefore = Attempts(await StatusAsync(settings));
        await Task.Delay(TimeSpan.FromSeconds(6));
        var status = await StatusAsync(settings);
        Assert.That(Attempts(status), Is.GreaterThan(attemptsBefore), "the folder is retried");
        // Backoff from 1 s doubling to 4 s allows a handful of attempts in 6 s; a spin would make hundreds.
        Assert.That(Attempts(status) - attemptsBefore, Is.LessThanOrEqualTo(6), "retrying with backoff, not spinning");
        Assert.That(status, Does.Match(@"Locked\s+0\s.*TROUBLE"));

        await File.WriteAllTextAsync(_acl, UnlockedAcl);
        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(30), observer: observer);
        await Eventually.HoldsAsync(async () => (await StatusAsync(settings)).Contains("folders in trouble: 0"), TimeSpan.FromSeconds(30));
        Assert.That(observer.HasExited, Is.False);
    }

    [Test]
    public async Task Sync_RightAfterAFolderFailed_RetriesItAtOnce_NotAfterTheLiveBackoff()
    {
        var accounts = await _pair.NewAccountsAsync();
        await using (var primary = await accounts.PrimaryClientAsync())
        {
            await MailFactory.FillAsync(primary, "Locked", 3);
            await MailFactory.FillAsync(primary, "Other", 2);
        }
        var settings = accounts.Settings(Path.Combine(_dir, "state.db"));
        // A long backoff, so that every sync below falls well inside it.
        settings["Replication:TroubleRetryDelay"] = "00:10:00";
        settings["Replication:TroubleMaxDelay"] = "01:00:00";
        var first = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(1));
        Assert.That(first.ExitCode, Is.EqualTo(1), first.Output + first.Errors);
        Assert.That(first.Output, Does.Match(@"Locked\s+FAILED: APPEND refused by the server: \[NOPERM\]"));

        await File.WriteAllTextAsync(_acl, UnlockedAcl);
        // Dovecot rereads the ACL within a second: a sync before then fails on the folder again, but none may skip it.
        await Eventually.HoldsAsync(async () =>
        {
            var again = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(1));
            Assert.That(again.Output, Does.Not.Contain("waiting to retry"), "a one-shot sync retries a folder in trouble at once");
            Assert.That(again.ExitCode, Is.Zero.Or.EqualTo(1), again.Errors);
            return again.ExitCode == 0;
        }, TimeSpan.FromSeconds(30));
        Assert.That(await accounts.DifferencesAsync(), Is.Empty);
    }

    private async Task<string> StatusAsync(Dictionary<string, string> settings) =>
        (await ObserverProcess.RunAsync("status", settings, _dir, TimeSpan.FromSeconds(30))).Output;

    private static int Attempts(string status)
    {
        var m = Regex.Match(status, @"Locked: .*, (\d+) attempts");
        return m.Success ? int.Parse(m.Groups[1].Value) : 0;
    }
}

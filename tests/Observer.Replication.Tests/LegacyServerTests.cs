using MailKit.Net.Imap;
using NUnit.Framework;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

/// <summary>
/// Both servers advertise only IMAP4rev1 and IDLE: every fallback path runs against a real server
/// (full scans, IDLE hints instead of CONDSTORE, \Deleted-safe EXPUNGE instead of UID EXPUNGE,
/// single APPENDs, LSUB, STATUS per folder, plain SEARCH).
/// </summary>
[NonParallelizable]
public class LegacyServerTests
{
    private DovecotPair _pair = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _pair = await DovecotPair.StartAsync("legacy", DovecotPair.LegacyCapabilities, DovecotPair.LegacyCapabilities);

    [OneTimeTearDown]
    public async Task StopAsync() => await _pair.DisposeAsync();

    [Test]
    public async Task Sync_WithoutExtensions_CopiesAndConverges()
    {
        await using var h = await EngineHarness.CreateAsync(pair: _pair);
        await using var primary = await h.Accounts.PrimaryClientAsync();
        Assert.That(primary.Capabilities & (ImapCapabilities.CondStore | ImapCapabilities.UidPlus | ImapCapabilities.Move), Is.EqualTo(ImapCapabilities.None));
        await MailFactory.FillAsync(primary, "INBOX", 20);
        await MailFactory.FillAsync(primary, "Old.Stuff", 10);
        await primary.SubscribeAsync("Old.Stuff");
        Assert.That((await h.SyncAsync()).Converged, Is.True);
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty);

        await primary.SelectAsync("INBOX");
        await primary.UidStoreAsync(UidSet.Range(1, 5), StoreMode.Add, new MessageFlags(["\\Seen", "$Old"]));
        await primary.UidStoreAsync(UidSet.Range(6, 7), StoreMode.Add, new MessageFlags(["\\Deleted"]));
        await primary.ExpungeAsync();
        await primary.AppendAsync("INBOX", MailFactory.Message("late arrival"));
        // A message the primary's user marked \Deleted but did not expunge must survive on the replica.
        await primary.UidStoreAsync(UidSet.Single(8), StoreMode.Add, new MessageFlags(["\\Deleted"]));
        Assert.That((await h.SyncAsync()).Converged, Is.True);
        await Task.Delay(1100);
        Assert.That((await h.SyncAsync()).Converged, Is.True);
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty);
    }

    [Test]
    public async Task Live_IdleFastPath_WithoutCondstore_CarriesEveryKindOfChange()
    {
        await using var h = await EngineHarness.CreateAsync(pair: _pair);
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 8);
        await MailFactory.FillAsync(primary, "Keep", 2);
        await h.StartLiveAsync();
        await h.ConvergesAsync();
        Assert.That(h.Log.AllText, Does.Contain("watching the primary with IDLE"));

        await primary.AppendAsync("INBOX", MailFactory.Message("new via IDLE", new MessageFlags(["$Fresh"])));
        await primary.SelectAsync("INBOX");
        await primary.UidStoreAsync(UidSet.Single(2), StoreMode.Add, new MessageFlags(["\\Flagged", "$Hint"]));
        await primary.UidStoreAsync(UidSet.Single(3), StoreMode.Add, new MessageFlags(["\\Deleted"]));
        await primary.ExpungeAsync();
        await primary.UidCopyAsync(UidSet.Single(4), "Keep");
        await h.ConvergesAsync();
        Assert.That(h.Log.AllText, Does.Contain("primary read by the IDLE watcher's hints"), "the changes went through the fast path, not a full scan");
    }

    [Test]
    public async Task ReplicaWithoutAppendUid_CopiesAreFoundByMessageIdAndMd5()
    {
        await using var h = await EngineHarness.CreateAsync();
        h.Replica.WithholdAppendUid = true;
        await using (var primary = await h.Accounts.PrimaryClientAsync())
        {
            await MailFactory.FillAsync(primary, "INBOX", 12);
            await primary.AppendAsync("INBOX", new AppendMessage(ImapLiteral.FromString("Subject: no message-id here\r\n\r\nbody\r\n")));
        }
        var first = await h.SyncAsync();
        Assert.That(first.Converged, Is.True);
        var second = await h.SyncAsync();
        Assert.That(second.Folders.Single().Outcome, Is.EqualTo(FolderOutcome.Unchanged), "the located UIDs were right, so nothing is left to do");
        var (report, _) = await h.Engine.VerifyAsync(repair: false, force: false, CancellationToken.None);
        Assert.That(report.Identical, Is.True);
        Assert.That(h.Replica.Appended, Is.EqualTo(13));
    }
}

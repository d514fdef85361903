using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

/// <summary>
/// Changes a watcher leaves out: a Dovecot 2.3 NOTIFY session was seen to report only INBOX for minutes.
/// What it misses is found at the next look at the primary's folder list, not left to the reconciliation pass.
/// </summary>
public class UnheardChangeTests
{
    [Test]
    public async Task ANewMessageNotifyLeftOut_IsSyncedByTheNextTreeSync()
    {
        // Polling too rare to find it first.
        await using var h = await LiveWithQuietAsync(TimeSpan.FromMinutes(10));

        h.Sessions.Primary.Unheard.TryAdd("Quiet", 0);
        await using (var primary = await h.Accounts.PrimaryClientAsync())
        {
            await MailFactory.FillAsync(primary, "Quiet", 1, "unheard");
            // NOTIFY reports the new folder, and the engine reads the folder list again.
            await MailFactory.FillAsync(primary, "Fresh", 1);
        }

        await h.ConvergesAsync(15);
        Assert.That((await h.Accounts.ReplicaSnapshotAsync()).Folders["Quiet"], Has.Count.EqualTo(2));
    }

    [Test]
    public async Task ANotifySessionThatHearsOnlyInbox_IsReplacedOnceThePollerFindsWhatItMissed()
    {
        await using var h = await LiveWithQuietAsync(TimeSpan.FromSeconds(1));

        // The session that hears everything, then goes deaf to all but INBOX, as Dovecot's did after it rebuilt its list index.
        await using (var primary = await h.Accounts.PrimaryClientAsync()) await MailFactory.FillAsync(primary, "Quiet", 1, "heard");
        await Eventually.HoldsAsync(() => Task.FromResult(h.Sessions.Primary.StatusHeard.ContainsKey("Quiet")), TimeSpan.FromSeconds(10));
        h.Sessions.Primary.DeafenOpenSessions();
        // A poll that begins after the push: a change it finds together with one NOTIFY reported is no evidence.
        var polls = h.Sessions.Primary.ListsBy["poll"];
        await Eventually.HoldsAsync(() => Task.FromResult(h.Sessions.Primary.ListsBy["poll"] >= polls + 2), TimeSpan.FromSeconds(10));
        var watching = h.Sessions.Primary.WatchingAll;
        await using (var primary = await h.Accounts.PrimaryClientAsync()) await MailFactory.FillAsync(primary, "Quiet", 1, "missed");
        await h.ConvergesAsync(10);

        await Eventually.HoldsAsync(() => Task.FromResult(h.Log.AllText.Contains("the NOTIFY session did not report changes that polling found in 1 folders (Quiet)", StringComparison.Ordinal)), TimeSpan.FromSeconds(15),
            () => Task.FromResult(string.Join('\n', h.Log.Lines.TakeLast(30))));
        // A change before the new session has set NOTIFY up is no news to it.
        await Eventually.HoldsAsync(() => Task.FromResult(h.Sessions.Primary.WatchingAll > watching), TimeSpan.FromSeconds(10));
        var heard = h.Sessions.Primary.StatusHeard["Quiet"];
        await using (var primary = await h.Accounts.PrimaryClientAsync()) await MailFactory.FillAsync(primary, "Quiet", 1, "heard again");
        await Eventually.HoldsAsync(() => Task.FromResult(h.Sessions.Primary.StatusHeard["Quiet"] > heard), TimeSpan.FromSeconds(10));
        await h.ConvergesAsync(10);
    }

    [Test]
    public async Task NotifySessionsThatStayDeafOnANewConnection_AreReportedToTheAdmin_AndPollingCarriesTheChanges()
    {
        await using var h = await LiveWithQuietAsync(TimeSpan.FromSeconds(1));
        await using (var primary = await h.Accounts.PrimaryClientAsync()) await MailFactory.FillAsync(primary, "Quiet", 1, "heard");
        await Eventually.HoldsAsync(() => Task.FromResult(h.Sessions.Primary.StatusHeard.ContainsKey("Quiet")), TimeSpan.FromSeconds(10));

        // Deaf on every connection, new ones too, as Dovecot's were once its list index was corrupted.
        h.Sessions.Primary.Unheard.TryAdd("Quiet", 0);
        var sent = 0;
        await Eventually.HoldsAsync(async () =>
        {
            await using (var primary = await h.Accounts.PrimaryClientAsync()) await MailFactory.FillAsync(primary, "Quiet", 1, $"unheard {++sent}");
            return h.Log.AllText.Contains("on a new connection too", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(30), every: TimeSpan.FromSeconds(1));

        await h.ConvergesAsync(10);
        Assert.That(h.Log.Lines.Count(l => l.Contains("NOTIFY on the primary left out changes", StringComparison.Ordinal)), Is.EqualTo(1), "told once");
        var replicaId = h.Store.Replicas.Find("replica")!.Id;
        await Eventually.HoldsAsync(() => Task.FromResult(h.Store.Service.Get(replicaId)?.WatchMode?.Contains("NOTIFY leaves out changes that polling finds", StringComparison.Ordinal) == true),
            TimeSpan.FromSeconds(15), () => Task.FromResult($"status says: {h.Store.Service.Get(replicaId)?.WatchMode}"));
    }

    [Test]
    public async Task WhileNotifyIsDeaf_AFolderLongLivedListsLeaveOut_IsFoundByPollingOnANewConnection()
    {
        await using var h = await LiveWithQuietAsync(TimeSpan.FromSeconds(1));
        h.Sessions.Primary.Unheard.TryAdd("Quiet", 0);
        h.Sessions.Primary.Unheard.TryAdd("Fresh", 0);
        await using (var primary = await h.Accounts.PrimaryClientAsync()) await MailFactory.FillAsync(primary, "Quiet", 1, "unheard");
        // The new session's first pass reads the folder lists on new connections: the folder must come after it.
        await Eventually.HoldsAsync(() => Task.FromResult(h.Log.Lines.SkipWhile(l => !l.Contains("did not report changes that polling found", StringComparison.Ordinal)).Any(l => l.Contains("pass complete", StringComparison.Ordinal))), TimeSpan.FromSeconds(20));

        // The server's list index broken: every connection open now, the new NOTIFY session's and the poller's too, leaves out a new folder.
        h.Sessions.Primary.HiddenFromLongLivedLists.Add("Fresh");
        h.Sessions.Primary.NewConnectionsListRight();
        await using (var primary = await h.Accounts.PrimaryClientAsync()) await MailFactory.FillAsync(primary, "Fresh", 2);

        await h.ConvergesAsync(10);
        Assert.That((await h.Accounts.ReplicaSnapshotAsync()).Folders["Fresh"], Has.Count.EqualTo(2));
    }

    [Test]
    public async Task AfterTheNotifySessionWasLost_AFolderLongLivedListsLeaveOut_IsFoundByPollingOnANewConnection()
    {
        await using var h = await LiveWithQuietAsync(TimeSpan.FromSeconds(2));
        h.Sessions.Primary.Unheard.TryAdd("Fresh", 0);

        // The server kills the NOTIFY session, as Dovecot 2.3 did on finding its list index corrupted. The new session's
        // first pass reads the folder lists on new connections: the folder must come after it.
        var watching = h.Sessions.Primary.WatchingAll;
        var passes = h.Log.Lines.Count(l => l.Contains("pass complete", StringComparison.Ordinal));
        h.Sessions.Primary.DropOpenSessionsEvents();
        await Eventually.HoldsAsync(() => Task.FromResult(h.Sessions.Primary.WatchingAll > watching
            && h.Log.Lines.Count(l => l.Contains("pass complete", StringComparison.Ordinal)) > passes), TimeSpan.FromSeconds(20));

        // From then on every connection open, the poller's and the new NOTIFY session's too, lists the tree as it was; NOTIFY does
        // not report the folder either, and no change NOTIFY leaves out in a listed folder gives it away.
        h.Sessions.Primary.HiddenFromLongLivedLists.Add("Fresh");
        h.Sessions.Primary.NewConnectionsListRight();
        await using (var primary = await h.Accounts.PrimaryClientAsync()) await MailFactory.FillAsync(primary, "Fresh", 2);

        await h.ConvergesAsync(10);
        Assert.That((await h.Accounts.ReplicaSnapshotAsync()).Folders["Fresh"], Has.Count.EqualTo(2));
    }

    /// <summary>Live on NOTIFY, with a folder Quiet of one message copied, and no reconciliation pass in sight.</summary>
    private static async Task<EngineHarness> LiveWithQuietAsync(TimeSpan pollInterval)
    {
        var h = await EngineHarness.CreateAsync(o =>
        {
            o.Watch = WatchMode.Notify;
            o.PollInterval = pollInterval;
            o.ReconcileInterval = TimeSpan.FromHours(1);
        });
        try
        {
            await using (var primary = await h.Accounts.PrimaryClientAsync()) await MailFactory.FillAsync(primary, "Quiet", 1);
            await h.StartLiveAsync();
            await h.ConvergesAsync();
            return h;
        }
        catch
        {
            await h.DisposeAsync();
            throw;
        }
    }
}

using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

/// <summary>
/// A long-lived session whose folder list fell behind (Dovecot 2.3's mailbox list index was seen to do so
/// under churn, for minutes): observer reads the list again on a new connection when in doubt.
/// </summary>
public class StaleListTests
{
    [Test]
    public async Task NewFolderTheWatcherReported_ButALongLivedListLeavesOut_IsReplicatedAtOnce()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using (var primary = await h.Accounts.PrimaryClientAsync()) await MailFactory.FillAsync(primary, "INBOX", 2);
        await h.StartLiveAsync();
        await h.ConvergesAsync();

        // Hidden from the engine's, the watchers' and the poller's connections alike: only a new one lists it.
        h.Sessions.Primary.HiddenFromLongLivedLists.Add("Fresh");
        await using (var primary = await h.Accounts.PrimaryClientAsync()) await MailFactory.FillAsync(primary, "Fresh", 3);

        await h.ConvergesAsync(20);
        Assert.That((await h.Accounts.ReplicaSnapshotAsync()).Folders["Fresh"], Has.Count.EqualTo(3));
        Assert.That(h.Log.AllText, Does.Contain("folder list on a long-lived connection was behind a new connection's"));
    }

    [Test]
    public async Task FolderRenamedAway_StillListedWithoutStatus_IsReplayedAsARename_NotLeftBehind()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using (var primary = await h.Accounts.PrimaryClientAsync()) await MailFactory.FillAsync(primary, "Before", 4);
        await h.StartLiveAsync();
        await h.ConvergesAsync();

        // As Dovecot answered a stale session: the old name listed, "* NO" where its STATUS should be, the new name missing.
        h.Sessions.Primary.ListedButGone.Add("Before");
        h.Sessions.Primary.HiddenFromLongLivedLists.Add("After");
        await using (var primary = await h.Accounts.PrimaryClientAsync()) await primary.RenameAsync("Before", "After");

        await h.ConvergesAsync(20);
        var replica = await h.Accounts.ReplicaSnapshotAsync();
        Assert.That(replica.Folders.Keys, Does.Contain("After").And.Not.Contain("Before"));
        Assert.That(h.Sessions.Replica.Renames, Is.EqualTo(1), "replayed as a RENAME, not a delete and a new copy");
    }

    [Test]
    public async Task FolderRenamedAway_WhileThePollersListIsStale_TheRenameAndTheNextChangeInItAreHeard()
    {
        await using var h = await EngineHarness.CreateAsync(o =>
        {
            o.Watch = WatchMode.Poll;
            o.PollInterval = TimeSpan.FromSeconds(1);
            o.ReconcileInterval = TimeSpan.FromHours(1);
        });
        await using (var primary = await h.Accounts.PrimaryClientAsync()) await MailFactory.FillAsync(primary, "Before", 2);
        await h.StartLiveAsync();
        await h.ConvergesAsync();

        // Every connection open now, the poller's too, goes on listing the old name and not the new one; any opened later lists right.
        h.Sessions.Primary.ListedButGone.Add("Before");
        h.Sessions.Primary.HiddenFromLongLivedLists.Add("After");
        h.Sessions.Primary.NewConnectionsListRight();
        await using (var primary = await h.Accounts.PrimaryClientAsync()) await primary.RenameAsync("Before", "After");
        await h.ConvergesAsync(15);

        await using (var primary = await h.Accounts.PrimaryClientAsync()) await MailFactory.FillAsync(primary, "After", 1, "after the rename");
        await h.ConvergesAsync(15);
        Assert.That((await h.Accounts.ReplicaSnapshotAsync()).Folders["After"], Has.Count.EqualTo(3));
        Assert.That(h.Sessions.Replica.Renames, Is.EqualTo(1));
    }

    [Test]
    public async Task FolderDeletedOnThePrimary_ThatTheReplicasListLeavesOut_IsDeletedOnTheReplicaAllTheSame()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using (var primary = await h.Accounts.PrimaryClientAsync())
        {
            await MailFactory.FillAsync(primary, "Old", 2);
            await MailFactory.FillAsync(primary, "Kept", 2);
        }
        Assert.That((await h.SyncAsync()).Converged, Is.True);

        h.Sessions.Replica.HiddenFromList.Add("Old");
        await using (var primary = await h.Accounts.PrimaryClientAsync()) await primary.DeleteAsync("Old");
        await h.SyncAsync();

        Assert.That((await h.Accounts.ReplicaSnapshotAsync()).Folders.Keys, Does.Not.Contain("Old"), "not orphaned with its copies");
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty);
    }

    [Test]
    public async Task FolderSeenGoneBeforeItsRenameWasFound_LeavesNoDeletionClockBehind_TheServiceFallsQuiet()
    {
        await using var h = await EngineHarness.CreateAsync(o =>
        {
            o.Watch = WatchMode.Poll;
            o.PollInterval = TimeSpan.FromSeconds(1);
            o.FolderDeleteDelay = TimeSpan.FromSeconds(5);
        });
        await using (var primary = await h.Accounts.PrimaryClientAsync())
        {
            await MailFactory.FillAsync(primary, "Old", 2);
            await MailFactory.FillAsync(primary, "Keep", 1);
        }
        await h.StartLiveAsync();
        await h.ConvergesAsync();

        // The rename is first seen as a vanished folder (its new name not yet listed), and only later as a rename.
        h.Sessions.Primary.HiddenFromLongLivedLists.Add("New");
        await using (var primary = await h.Accounts.PrimaryClientAsync()) await primary.RenameAsync("Old", "New");
        await Eventually.HoldsAsync(() => Task.FromResult(h.Log.AllText.Contains("folder Old is gone from the primary", StringComparison.Ordinal)), TimeSpan.FromSeconds(20));
        h.Sessions.Primary.HiddenFromLongLivedLists.Clear();
        await h.ConvergesAsync(20);

        // Past the deletion delay, the clock of "Old" would be due for ever if it were left behind.
        await Task.Delay(TimeSpan.FromSeconds(7));
        var before = h.Sessions.Primary.Lists;
        await Task.Delay(TimeSpan.FromSeconds(3));
        var lists = h.Sessions.Primary.Lists - before;
        Assert.That(lists, Is.LessThan(15), $"{lists} LISTs in 3 quiet seconds: the live loop is spinning");
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty);
    }
}

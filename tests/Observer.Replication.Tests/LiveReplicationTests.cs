using NUnit.Framework;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

public class LiveReplicationTests
{
    [TestCase(WatchMode.Notify)]
    [TestCase(WatchMode.Idle)]
    public async Task Live_EveryKindOfChangeByAnotherClient_ReachesTheReplica(WatchMode mode)
    {
        // Every move a MOVE, however small the message: this test's messages are a few hundred bytes.
        await using var h = await EngineHarness.CreateAsync(o => { o.Watch = mode; o.MoveMinimumBytes = 0; });
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 6);
        await MailFactory.FillAsync(primary, "Projects", 3);
        await MailFactory.FillAsync(primary, "Old", 2);
        await MailFactory.FillAsync(primary, "Doomed", 2);
        await primary.SubscribeAsync("Projects");
        await h.StartLiveAsync();
        await h.ConvergesAsync();
        var uploadsAfterStart = h.Replica.Appended;
        Assert.That(h.Log.AllText, Does.Contain(mode == WatchMode.Notify ? "watching the primary with NOTIFY" : "watching the primary with IDLE"));

        await primary.AppendAsync("INBOX", MailFactory.Message("new one", new MessageFlags(["$Work", "\\Flagged"])));
        await primary.AppendAsync("INBOX", MailFactory.Message("new two"));
        await primary.SelectAsync("INBOX");
        await primary.UidStoreAsync(UidSet.Single(1), StoreMode.Add, new MessageFlags(["\\Seen", "$Later"]));
        await primary.UidStoreAsync(UidSet.Single(4), StoreMode.Remove, new MessageFlags(["\\Seen"]));
        await primary.UidStoreAsync(UidSet.Single(2), StoreMode.Add, new MessageFlags(["\\Deleted"]));
        await primary.UidExpungeAsync(UidSet.Single(2));
        await primary.UidMoveAsync(UidSet.Single(3), "Projects");
        await primary.CreateAsync("New.Sub");
        await primary.AppendAsync("New.Sub", MailFactory.Message("in a new folder"));
        await primary.SubscribeAsync("New.Sub");
        await primary.UnsubscribeAsync("Projects");
        await primary.UnselectAsync();
        await primary.RenameAsync("Old", "Renamed");
        await primary.DeleteAsync("Doomed");

        await h.ConvergesAsync();
        Assert.That(h.Replica.Appended - uploadsAfterStart, Is.EqualTo(3), "only the three new messages are uploaded");
        Assert.That(h.Replica.Moves, Is.EqualTo(1), "the move is replayed as a MOVE");
        Assert.That(h.Replica.Renames, Is.EqualTo(1), "the rename is replayed as a RENAME");
    }

    [TestCase(WatchMode.Notify)]
    [TestCase(WatchMode.Idle)]
    public async Task Live_ExpungedSmallMessage_LeavesTheReplicaAtOnce_WhileALargeOneWaitsOutTheMoveWindow(WatchMode mode)
    {
        // Only a message of MoveMinimumBytes or more is ever moved on the replica, so only its expunge waits
        // (a minute here) for a new copy elsewhere to move it to; a small one has nothing to wait for.
        await using var h = await EngineHarness.CreateAsync(o => { o.Watch = mode; o.MoveWindow = TimeSpan.FromMinutes(1); o.MoveMinimumBytes = 4096; });
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 3);
        var body = string.Concat(Enumerable.Repeat(new string('x', 76) + "\r\n", 100));
        await primary.AppendAsync("INBOX", new AppendMessage(ImapLiteral.FromBytes(System.Text.Encoding.UTF8.GetBytes(MailFactory.Text("large", body)))));
        await h.StartLiveAsync();
        await h.ConvergesAsync();

        await primary.SelectAsync("INBOX");
        await primary.UidStoreAsync(UidSet.FromUids([2, 4]), StoreMode.Add, new MessageFlags([MessageFlags.Deleted]), silent: true);
        await primary.UidExpungeAsync(UidSet.FromUids([2, 4]));

        await Eventually.HoldsAsync(async () => (await h.Accounts.ReplicaSnapshotAsync()).Folders["INBOX"].Count == 3, TimeSpan.FromSeconds(20),
            async () => $"the replica's INBOX holds {(await h.Accounts.ReplicaSnapshotAsync()).Folders["INBOX"].Count} messages");
        var sizes = (await h.Accounts.ReplicaSnapshotAsync()).Folders["INBOX"].Select(m => m.Size).ToList();
        Assert.That(sizes.Max(), Is.GreaterThan(4096), "the large message's copy waits for its move window");
    }

    [Test]
    public async Task Live_ManyQuickFlagChanges_EachArrivesWithoutWaitingForTheNextPass()
    {
        // Dovecot can announce a change through NOTIFY a moment before another session sees it;
        // each change must still arrive within seconds, not at the next full pass (10 min here).
        await using var h = await EngineHarness.CreateAsync();
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 30);
        await h.StartLiveAsync();
        await using var replica = await h.Accounts.ReplicaClientAsync();
        await primary.SelectAsync("INBOX");
        var random = new Random(5);
        for (var i = 1; i <= 30; i++)
        {
            var keyword = $"$Quick{i}";
            await primary.UidStoreAsync(UidSet.Single((uint)i), StoreMode.Add, new MessageFlags([keyword]), silent: true);
            await Eventually.HoldsAsync(async () =>
            {
                await replica.ExamineAsync("INBOX");
                using var flags = await replica.UidFetchAsync(UidSet.Single((uint)i), new FetchRequest(FetchItems.Flags));
                return flags.Messages.Single().Flags!.Contains(keyword);
            }, TimeSpan.FromSeconds(10), every: TimeSpan.FromMilliseconds(20));
            await Task.Delay(random.Next(0, 200));
        }
    }

    [Test]
    public async Task Live_FoldersBeyondTheConnectionBudget_AreFoundByPolling()
    {
        await using var h = await EngineHarness.CreateAsync(o =>
        {
            o.Watch = WatchMode.Idle;
            o.MaxConnections = 3;
        });
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 2);
        foreach (var folder in new[] { "A", "B", "C" }) await MailFactory.FillAsync(primary, folder, 2);
        await h.StartLiveAsync();
        Assert.That(h.Log.AllText, Does.Contain("IDLE on up to 1 folders"));

        await primary.AppendAsync("C", MailFactory.Message("found by STATUS polling"));
        await primary.AppendAsync("INBOX", MailFactory.Message("found by IDLE"));
        await h.ConvergesAsync(20);
    }

    [Test]
    public async Task Live_StopFinishesWorkAndCommits()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 3);
        await h.StartLiveAsync();
        await h.StopLiveAsync();
        var folders = h.Store.Folders.All(h.Store.Replicas.Find("replica")!.Id);
        Assert.That(folders.Single(f => f.PrimaryName == "INBOX").LastSyncedAt, Is.Not.Null);
        Assert.That(h.Store.Service.Get(h.Store.Replicas.Find("replica")!.Id)!.PrimaryState, Is.EqualTo("stopped"));
        Assert.That(h.Store.Journal.OpenCount(h.Store.Replicas.Find("replica")!.Id), Is.Zero);
    }
}

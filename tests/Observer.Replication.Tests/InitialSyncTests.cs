using NUnit.Framework;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

public class InitialSyncTests
{
    private const string Nested = "Work.Projects.2026";
    private const string NonAscii = "Caf\u00e9 \u2615.R\u00e9sum\u00e9s \u65e5\u672c";

    [Test]
    public async Task InitialSync_NestedNonAsciiAndPrefilledReplica_AdoptsSharedRemovesExtrasCopiesTheRest()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using (var primary = await h.Accounts.PrimaryClientAsync())
        await using (var replica = await h.Accounts.ReplicaClientAsync())
        {
            await MailFactory.FillAsync(primary, "INBOX", 30);
            await MailFactory.FillAsync(primary, Nested, 20);
            await MailFactory.FillAsync(primary, NonAscii, 10);
            await primary.SubscribeAsync(Nested);

            // The replica already holds 10 INBOX messages and 5 of the nested folder's, byte for byte,
            // with other flags, plus 3 messages the primary never had.
            await CopyAsync(primary, "INBOX", replica, "INBOX", 10);
            await replica.CreateAsync("Work/Projects/2026");
            await CopyAsync(primary, Nested, replica, "Work/Projects/2026", 5);
            for (var i = 0; i < 3; i++) await replica.AppendAsync("INBOX", MailFactory.Message("only on the replica " + i));
        }
        var sharedBefore = await SharedReplicaUidsAsync(h);
        Assert.That(sharedBefore, Has.Count.EqualTo(15));

        var pass = await h.SyncAsync();

        Assert.That(pass.Converged, Is.True, pass.Summary());
        var primarySnapshot = await h.Accounts.PrimarySnapshotAsync();
        var replicaSnapshot = await h.Accounts.ReplicaSnapshotAsync();
        Assert.That(primarySnapshot.Differences(replicaSnapshot), Is.Empty);
        Assert.That(replicaSnapshot.DuplicatesAgainst(primarySnapshot), Is.Zero);
        Assert.That(primarySnapshot.Folders.Keys, Is.SupersetOf(new[] { "INBOX", "Work/Projects/2026", "Caf\u00e9 \u2615/R\u00e9sum\u00e9s \u65e5\u672c" }));
        Assert.That(h.Replica.Appended, Is.EqualTo(60 - 15), "the 15 messages already on the replica are adopted, not uploaded again");
        Assert.That(await SharedReplicaUidsAsync(h), Is.SupersetOf(sharedBefore), "adopted copies keep their replica UIDs");
        Assert.That(pass.Folders.Sum(f => f.ExtrasRemoved), Is.EqualTo(3));
    }

    [Test]
    public async Task InitialCopy_LearnsFlagsDatesAndSizesFromTheScan_ThenAsksOneFetchOfBodiesPerBatch()
    {
        await using var h = await EngineHarness.CreateAsync(o => o.AppendBatchSize = 5);
        await using (var primary = await h.Accounts.PrimaryClientAsync())
            await MailFactory.FillAsync(primary, "INBOX", 120);

        var pass = await h.SyncAsync();

        Assert.That(pass.Converged, Is.True, pass.Summary());
        var primarySnapshot = await h.Accounts.PrimarySnapshotAsync();
        var replicaSnapshot = await h.Accounts.ReplicaSnapshotAsync();
        Assert.That(primarySnapshot.Differences(replicaSnapshot), Is.Empty, "flags and internal dates come from the scan");
        Assert.That(h.Replica.Appended, Is.EqualTo(120));
        // One scan of the folder with its dates and sizes (INBOX; the other folders are empty), then 24 batches of 5.
        Assert.That((h.Sessions.Primary.AttributeFetches, h.Sessions.Primary.BodyFetches), Is.EqualTo((1, 24)));
    }

    [Test]
    public async Task ABigFirstCopy_AppendsOnTwoConnections_AndTheReplicaIsExactWithoutDuplicates()
    {
        await using var h = await EngineHarness.CreateAsync(o => o.AppendBatchSize = 40);
        await using (var primary = await h.Accounts.PrimaryClientAsync())
            await MailFactory.FillAsync(primary, "INBOX", 2400);

        var pass = await h.SyncAsync();

        Assert.That(pass.Converged, Is.True, pass.Summary());
        await AssertEachMessageCopiedOnceAsync(h, 2400);
        Assert.That(h.Replica.Appended, Is.EqualTo(2400), "every message uploaded once");
        Assert.That(h.Replica.AppendedBy.GetValueOrDefault("append lane"), Is.GreaterThan(0), "the second lane appended some of the batches");
        Assert.That(pass.Folders.Single(f => f.Folder == "INBOX").Summary(), Is.EqualTo("2400 appended on 2 connections"), "the folder's report says the copy used a second connection");
    }

    [Test]
    public async Task ABigCopy_WhereTheReplicaGivesNoAppendUid_FindsItsCopiesOnOneLane_AndNeverTakesOneCopyForTwo()
    {
        await using var h = await EngineHarness.CreateAsync(o => o.AppendBatchSize = 40);
        h.Replica.WithholdAppendUid = true;
        await using (var primary = await h.Accounts.PrimaryClientAsync())
        {
            await MailFactory.FillAsync(primary, "INBOX", 2000);
            // Identical messages in batches of both lanes: found by content, each could be taken for another's copy.
            var same = MailFactory.Message("the same message again", messageId: "<same@observer.test>");
            for (var i = 0; i < 10; i++) await primary.MultiAppendAsync("INBOX", Enumerable.Repeat(same, 40).ToList());
        }

        for (var pass = 0; pass < 3 && !(await h.SyncAsync()).Converged; pass++) { }

        Assert.That(h.Replica.AppendsAbandoned, Is.Zero, "a lane's APPEND in flight when the other lane failed was finished, not abandoned");
        await AssertEachMessageCopiedOnceAsync(h, 2400);
    }

    [Test]
    public async Task ABigFirstCopy_WithOneAppendLane_KeepsThePrimarysOrder()
    {
        await using var h = await EngineHarness.CreateAsync(o => (o.AppendBatchSize, o.AppendLanes) = (40, 1));
        await using (var primary = await h.Accounts.PrimaryClientAsync())
            await MailFactory.FillAsync(primary, "INBOX", 2000);

        var pass = await h.SyncAsync();

        Assert.That(pass.Converged, Is.True, pass.Summary());
        Assert.That(h.Replica.AppendedBy.ContainsKey("append lane"), Is.False);
        Assert.That(pass.Folders.Single(f => f.Folder == "INBOX").Summary(), Is.EqualTo("2000 appended"));
        var rows = InboxRows(h).Values.OrderBy(r => r.PrimaryUid).ToList();
        Assert.That(rows, Has.Count.EqualTo(2000));
        Assert.That(rows.Select(r => r.ReplicaUid), Is.Ordered.Ascending, "replica UIDs follow the primary's");
    }

    /// <summary>
    /// The replica equals the primary with no duplicates, each copy is recorded under a replica UID of its own (never one
    /// copy for two primary messages), and the next pass finds nothing left to copy.
    /// </summary>
    private static async Task AssertEachMessageCopiedOnceAsync(EngineHarness h, int messages)
    {
        var primarySnapshot = await h.Accounts.PrimarySnapshotAsync();
        var replicaSnapshot = await h.Accounts.ReplicaSnapshotAsync();
        // What the passes said, without each message's line: enough to tell a pass that failed mid-copy from one that did not.
        var passes = string.Join('\n', h.Log.Lines.Where(l => !l.StartsWith("Debug", StringComparison.Ordinal) && !l.StartsWith("Trace", StringComparison.Ordinal)));
        Assert.That(primarySnapshot.Differences(replicaSnapshot), Is.Empty, passes);
        Assert.That(replicaSnapshot.DuplicatesAgainst(primarySnapshot), Is.Zero, passes);
        Assert.That(InboxRows(h).Values.Select(r => r.ReplicaUid).Distinct().Count(), Is.EqualTo(messages), "each copy recorded under its own replica UID");
        Assert.That((await h.SyncAsync()).Folders.Sum(f => f.Appended), Is.Zero, "the next pass finds nothing to copy");
    }

    private static Dictionary<uint, Observer.State.MessageRecord> InboxRows(EngineHarness h) =>
        h.Store.Messages.ForFolder(h.Store.Folders.Find(h.Store.Replicas.Find("replica")!.Id, "INBOX")!.Id);

    [Test]
    public async Task AFlagSetWhileAFolderIsFirstCopied_AfterItsScan_ReachesTheReplicaByTheNextPass()
    {
        await using var h = await EngineHarness.CreateAsync(o => o.AppendBatchSize = 5);
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 60);
        await primary.SelectAsync("INBOX");
        // The scan read every message's flags; the user tags one before its copy is made.
        h.Sessions.Primary.AfterNextAttributeFetch = () => primary.UidStoreAsync(UidSet.Single(40), StoreMode.Add, new MessageFlags(["$SetDuringCopy"]));

        await h.SyncAsync();
        var pass = await h.SyncAsync();

        Assert.That(h.Sessions.Primary.AfterNextAttributeFetch, Is.Null, "the flag was set during the first copy");
        Assert.That(pass.Converged, Is.True, pass.Summary());
        var primarySnapshot = await h.Accounts.PrimarySnapshotAsync();
        var replicaSnapshot = await h.Accounts.ReplicaSnapshotAsync();
        Assert.That(primarySnapshot.Differences(replicaSnapshot), Is.Empty);
        Assert.That(replicaSnapshot.Folders["INBOX"].Count(m => m.Flags.Contains("$SetDuringCopy")), Is.EqualTo(1));
    }

    [Test]
    public async Task ABurstIntoACopiedFolder_AsksFlagsDatesAndSizes_OnceForTenBatches_ThenOneFetchOfBodiesPerBatch()
    {
        await using var h = await EngineHarness.CreateAsync(o => o.AppendBatchSize = 5);
        await using (var primary = await h.Accounts.PrimaryClientAsync())
            await MailFactory.FillAsync(primary, "INBOX", 10);
        Assert.That((await h.SyncAsync()).Converged, Is.True);
        var (attributesBefore, bodiesBefore) = (h.Sessions.Primary.AttributeFetches, h.Sessions.Primary.BodyFetches);
        await using (var primary = await h.Accounts.PrimaryClientAsync())
            await MailFactory.FillAsync(primary, "INBOX", 120, prefix: "burst");

        var pass = await h.SyncAsync();

        Assert.That(pass.Converged, Is.True, pass.Summary());
        var primarySnapshot = await h.Accounts.PrimarySnapshotAsync();
        var replicaSnapshot = await h.Accounts.ReplicaSnapshotAsync();
        Assert.That(primarySnapshot.Differences(replicaSnapshot), Is.Empty, "flags and internal dates come from the attribute fetch");
        // 120 new messages in batches of 5: 24 batches, whose attributes come in windows of 50 messages.
        Assert.That((h.Sessions.Primary.AttributeFetches - attributesBefore, h.Sessions.Primary.BodyFetches - bodiesBefore), Is.EqualTo((3, 24)));
    }

    [Test]
    public async Task Sync_Twice_SecondPassChangesNothing()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using (var primary = await h.Accounts.PrimaryClientAsync())
        {
            await MailFactory.FillAsync(primary, "INBOX", 25);
            await MailFactory.FillAsync(primary, "Archive.2025", 25);
        }
        await h.SyncAsync();
        var appended = h.Replica.Appended;
        var second = await h.SyncAsync();
        Assert.That(second.Folders.Select(f => f.Outcome), Is.All.EqualTo(FolderOutcome.Unchanged));
        Assert.That(h.Replica.Appended, Is.EqualTo(appended));
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty);
    }

    [Test]
    public async Task Sync_SubscriptionsAndFlagChanges_Follow()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "Lists.Dev", 5);
        await MailFactory.FillAsync(primary, "Lists.Ops", 5);
        await primary.SubscribeAsync("Lists.Dev");
        await h.SyncAsync();
        await primary.UnsubscribeAsync("Lists.Dev");
        await primary.SubscribeAsync("Lists.Ops");
        await primary.SelectAsync("Lists.Ops");
        await primary.UidStoreAsync(UidSet.Range(1, 3), StoreMode.Replace, new MessageFlags(["\\Answered", "$Label5"]));
        var pass = await h.SyncAsync();
        Assert.That(pass.Folders.Single(f => f.Folder == "Lists.Ops").FlagsSet, Is.EqualTo(3));
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty);
    }

    /// <summary>Copies the first <paramref name="count"/> messages byte for byte, keeping the internal date but not the flags.</summary>
    private static async Task CopyAsync(UserImapClient from, string fromFolder, UserImapClient to, string toFolder, int count)
    {
        await from.ExamineAsync(fromFolder);
        var messages = new List<AppendMessage>();
        await foreach (var m in from.UidFetchStreamAsync(UidSet.Range(1, (uint)count), new FetchRequest(FetchItems.InternalDate | FetchItems.Body)))
            messages.Add(new AppendMessage(ImapLiteral.FromBytes(m.Body!.ToArray()), new MessageFlags(["$Prefilled"]), m.InternalDate));
        await to.MultiAppendAsync(toFolder, messages);
    }

    /// <summary>"folder:uid:md5" of every replica message whose bytes the primary also has in that folder.</summary>
    private static async Task<HashSet<string>> SharedReplicaUidsAsync(EngineHarness h)
    {
        var primary = await h.Accounts.PrimarySnapshotAsync();
        var replica = await h.Accounts.ReplicaSnapshotAsync();
        return replica.Folders
            .SelectMany(f => f.Value
                .Where(m => primary.Folders.TryGetValue(f.Key, out var p) && p.Any(x => x.Md5 == m.Md5))
                .Select(m => $"{f.Key}:{m.Uid}:{m.Md5}"))
            .ToHashSet();
    }
}

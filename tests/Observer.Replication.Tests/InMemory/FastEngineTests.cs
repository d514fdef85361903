using NUnit.Framework;
using Observer.Mail;
using Observer.State;

namespace Observer.Replication.Tests.InMemory;

/// <summary>
/// The engine's decisions (folder sync, the delta reader, content matching, the delete guard, renames,
/// moves, live signals) between two in-memory servers, with and without the extensions that change
/// how it reads the primary. Each test takes milliseconds; the real-server tests beside them stay.
/// </summary>
[TestFixtureSource(nameof(Servers))]
public class FastEngineTests(string primaryKind, string replicaKind)
{
    public static IEnumerable<TestFixtureData> Servers() =>
    [
        new("full", "full"),
        new("full", "plain"),
        new("plain", "plain"),
    ];

    private InMemoryPair _pair = null!;

    private static SessionFeatures Features(string kind) => kind == "full" ? InMemoryMailServer.Full : InMemoryMailServer.Plain;

    [SetUp]
    public void SetUp() => _pair = new InMemoryPair(Features(primaryKind), Features(replicaKind));

    [TearDown]
    public async Task TearDown() => await _pair.DisposeAsync();

    private InMemoryMailServer Primary => _pair.Primary;
    private InMemoryMailServer Replica => _pair.Replica;

    private void Fill(string folder, int count, string prefix)
    {
        if (!Primary.Folders.Contains(folder)) Primary.Create(folder);
        for (var i = 0; i < count; i++)
            Primary.Append(folder, InMemoryPair.Message($"{prefix}{i}"), i % 3 == 0 ? InMemoryPair.Flags(MessageFlags.Seen, "$Label1") : MessageFlags.None,
                new DateTimeOffset(2026, 1, 1 + i % 28, 12, 0, 0, TimeSpan.FromHours(i % 5)));
    }

    [Test]
    public async Task FirstSync_CopiesEveryFolderAndMessage_WithFlagsAndDates()
    {
        Fill("INBOX", 7, "inbox");
        Fill("Work", 3, "work");
        Fill("Work.Sub", 2, "sub");
        Primary.Create("Empty");

        var pass = await _pair.SyncAsync();

        Assert.That(pass.Converged, Is.True, pass.Summary());
        Assert.That(_pair.Differences(), Is.Empty);
        Assert.That(Replica.Appended, Is.EqualTo(12));
    }

    [Test]
    public async Task SecondSync_ReplaysFlagChangesExpungesAndNewMail_AndUploadsOnlyTheNew()
    {
        Fill("INBOX", 12, "m");
        await _pair.SyncAsync();
        var uploaded = Replica.Appended;

        Primary.SetFlags("INBOX", UidSet.Range(1, 2), InMemoryPair.Flags(MessageFlags.Flagged, "$Important"));
        Primary.SetFlags("INBOX", UidSet.Single(4), MessageFlags.None);
        Primary.Expunge("INBOX", UidSet.Single(5));
        Primary.Append("INBOX", InMemoryPair.Message("late"));

        var pass = await _pair.SyncAsync();

        Assert.That(pass.Converged, Is.True, pass.Summary());
        Assert.That(_pair.Differences(), Is.Empty);
        Assert.That(Replica.Appended - uploaded, Is.EqualTo(1), "only the new message is uploaded");
    }

    [Test]
    public async Task ReplicaAlreadyHoldingTheMessages_IsAdoptedWithoutUpload()
    {
        Fill("Archive", 6, "old");
        Replica.Create("Archive");
        foreach (var message in Primary.Mailbox("Archive").Messages) Replica.Append("Archive", message.Bytes, message.Flags, message.InternalDate);

        var pass = await _pair.SyncAsync();

        Assert.That(pass.Converged, Is.True, pass.Summary());
        Assert.That(_pair.Differences(), Is.Empty);
        Assert.That(Replica.Appended, Is.Zero, "the replica's own copies were matched by content");
    }

    [Test]
    public async Task PrimaryFolderShrinkingByMost_HoldsTheDeletion_UntilApproved()
    {
        Fill("Big", 40, "big");
        await _pair.SyncAsync();
        Primary.Expunge("Big", UidSet.Range(1, 30));

        var held = await _pair.SyncAsync();

        Assert.That(held.Converged, Is.False);
        Assert.That(Replica.Mailbox("Big").Messages, Has.Count.EqualTo(40), "nothing deleted while held");
        Assert.That(_pair.Store.Holds.All(_pair.ReplicaId).Select(h => h.Folder), Is.EqualTo(new[] { "Big" }));

        _pair.Store.Holds.Approve(_pair.ReplicaId, "Big");
        var applied = await _pair.SyncAsync();

        Assert.That(applied.Converged, Is.True, applied.Summary());
        Assert.That(_pair.Differences(), Is.Empty);
    }

    [Test]
    public async Task MostFoldersDeleted_WhileTheBigOneIsNotCopiedYet_AreDeleted_NotHeld()
    {
        // Kept mail is what the primary lists, not what observer has copied so far: in the middle of a first
        // copy (here, the replica refuses Archive's mail for now), four small folders deleted by their user
        // beside a big archive are a tidy-up, not a broken primary (a CI run that killed observer twenty times).
        Assume.That(primaryKind == "full", "the guard weighs mail only where LIST-STATUS shows it");
        Fill("Archive", 70, "archive");
        var small = new[] { "A", "B", "C", "D" };
        foreach (var folder in small) Fill(folder, 3, folder);
        Replica.OverQuota.Add("Archive");
        await _pair.SyncAsync();
        Assert.That(Replica.Find("Archive").Messages, Is.Empty, "Archive not copied yet");

        foreach (var folder in small) Primary.Delete(folder);
        Replica.OverQuota.Clear();
        var pass = await _pair.SyncAsync();

        Assert.That((pass.Converged, pass.FoldersDeleted), Is.EqualTo((true, 4)), string.Join("; ", pass.TreeProblems));
        Assert.That(_pair.Differences(), Is.Empty);
    }

    [Test]
    public async Task FolderRenamedOnThePrimary_IsRenamedOnTheReplica_NotCopiedAgain()
    {
        Fill("Work", 5, "w");
        Fill("Work.Sub", 3, "s");
        await _pair.SyncAsync();
        var uploaded = Replica.Appended;

        Primary.Rename("Work", "Projects");
        var pass = await _pair.SyncAsync();

        Assert.That(pass.Converged, Is.True, pass.Summary());
        Assert.That(_pair.Differences(), Is.Empty);
        Assert.That(Replica.Appended, Is.EqualTo(uploaded), "renamed, not uploaded again");
        Assert.That(pass.FoldersRenamed, Is.EqualTo(1));
    }

    [Test]
    public async Task ABigFirstCopy_GoesInAboutAHundredBatches()
    {
        Assume.That(replicaKind == "full", "without MULTIAPPEND every message is an APPEND of its own");
        Fill("INBOX", 6_000, "big");

        var pass = await _pair.SyncAsync();

        Assert.That(pass.Converged, Is.True, pass.Summary());
        Assert.That(_pair.Differences(), Is.Empty);
        Assert.That(Replica.AppendCommands.Select(c => c.Messages), Is.All.EqualTo(60), "6,000 messages in 100 batches");
    }

    [Test]
    public async Task ACopy_NeverMovesMoreBytesAtOnceThanTheSettingAllows()
    {
        Assume.That(replicaKind == "full", "without MULTIAPPEND every message is an APPEND of its own");
        await using var pair = new InMemoryPair(Features(primaryKind), Features(replicaKind), o => o.AppendBatchBytes = 4_000);
        pair.Primary.Create("Work");
        for (var i = 0; i < 300; i++)
            pair.Primary.Append("Work", InMemoryPair.Message($"m{i} " + new string('x', 200 + i % 7 * 100)), MessageFlags.None, DateTimeOffset.UnixEpoch);
        var largest = 1 + pair.Primary.Find("Work").Messages.Max(m => m.Bytes.Length);

        var pass = await pair.SyncAsync();

        Assert.That(pass.Converged, Is.True, pass.Summary());
        Assert.That(pair.Differences(), Is.Empty);
        Assert.That(pair.Replica.AppendCommands.Select(c => c.Bytes), Is.All.LessThan(4_000 + largest));
        Assert.That(pair.Primary.BodyFetches, Is.All.LessThanOrEqualTo(4_000), "nor reads more at once from the primary");
        Assert.That(pair.Replica.AppendCommands.Count, Is.GreaterThan(300 * 200 / 4_000), "the byte limit, not the message count, cut the batches");
    }

    [Test]
    public async Task MessagesMovedBetweenFolders_AreMovedOnTheReplica_NotCopiedAgain()
    {
        await SyncedForMovesAsync("INBOX", 6, "Done");
        var uploaded = Replica.Appended;

        Primary.Copy("INBOX", UidSet.Range(2, 3), "Done", move: true);
        await _pair.StartLiveAsync();
        await _pair.ConvergesAsync();

        Assert.That(Replica.Appended, Is.EqualTo(uploaded), "moved, not uploaded again");
    }

    /// <summary>A synced pair with <paramref name="count"/> messages in one folder and another empty, where every move is replayed as MOVE.</summary>
    private async Task SyncedForMovesAsync(string source, int count, string destination)
    {
        Assume.That(primaryKind == "full" && replicaKind == "full", "moves are recognised by COPYUID and replayed by MOVE");
        _pair.Options.MoveMinimumBytes = 0;
        Fill(source, count, source.ToLowerInvariant()[..1]);
        Primary.Create(destination);
        await _pair.SyncAsync();
    }

    [Test]
    public async Task AMoveOutOfAFolderDeletedOnTheReplica_IsUploadedInstead_AndNothingFails()
    {
        await SyncedForMovesAsync("G", 2, "B");

        Primary.Copy("G", UidSet.Single(1), "B", move: true);
        // Behind Observer's back: the move's source is gone on the replica, and made again (by G's own sync)
        // only once B has its new message (or after 10 s), so B's MOVE finds no source folder to move from.
        Replica.Delete("G");
        Replica.BeforeCreate = name => name == "G" ? HeldWithinTenSecondsAsync(() => Count(Replica, "B") > 0) : Task.CompletedTask;
        var pass = await _pair.SyncAsync();

        Assert.That(pass.Converged, Is.True, pass.Summary());
        Assert.That(_pair.Differences(), Is.Empty);
    }

    [Test]
    public async Task APass_OpensAWorkerPerChangedFolderBeyondTheFirst_AndNoneWhenNothingChanged()
    {
        Assume.That(primaryKind == "full" && replicaKind == "full", "only LIST-STATUS shows a folder unchanged before it is opened");
        foreach (var folder in new[] { "A", "B", "C", "D" }) Fill(folder, 3, folder);
        await _pair.SyncAsync();
        Assert.That(_pair.Sessions.Connections, Is.EqualTo(2 * _pair.Options.ParallelFolders), "a first copy of four folders uses every worker");

        var before = _pair.Sessions.Connections;
        await _pair.SyncAsync();
        Assert.That(_pair.Sessions.Connections - before, Is.EqualTo(2), "nothing changed: one pair of connections, no workers");

        Primary.Append("A", InMemoryPair.Message("new in A"), MessageFlags.None);
        Primary.Append("C", InMemoryPair.Message("new in C"), MessageFlags.None);
        before = _pair.Sessions.Connections;
        var pass = await _pair.SyncAsync();
        Assert.That(pass.Converged, Is.True, pass.Summary());
        Assert.That(_pair.Differences(), Is.Empty);
        Assert.That(_pair.Sessions.Connections - before, Is.EqualTo(4), "two folders changed: one worker beside the first pair");
        Assert.That(_pair.Sessions.Made.Where(m => m.Session.IsConnected), Is.Empty, "every worker closed when the pass ended");
    }

    [Test]
    public async Task FoldersTheTreeSyncLeavesAlone_AreSyncedBesideItsWrites_NotAfterThem()
    {
        await NewMailBesideANewFolderAsync(alsoInA: true);
        // The new folder's CREATE is slow: it waits (up to 10 s) until A and B have their new mail on the replica.
        var copiedBeforeCreate = false;
        Replica.BeforeCreate = async _ => copiedBeforeCreate = await HeldWithinTenSecondsAsync(() => Count(Replica, "A") == 4 && Count(Replica, "B") == 3);

        var pass = await _pair.SyncAsync();

        Assert.That(pass.Converged, Is.True, pass.Summary());
        Assert.That(_pair.Differences(), Is.Empty);
        Assert.That(copiedBeforeCreate, Is.True, "A and B were synced while the tree sync was still creating a folder");
    }

    [Test]
    public async Task WhenTheTreeSyncAlsoRenamesOrDeletes_NoFolderIsSyncedBesideIt()
    {
        // A rename carries children along and a deletion may take the source of a move: with either to do,
        // the folders wait for the tree sync, as before.
        await NewMailBesideANewFolderAsync(alsoInA: false);
        Primary.Rename("A", "A2");
        // Given two seconds to happen, B's new mail must not reach the replica while the tree sync creates "New".
        var copiedBeforeCreate = true;
        Replica.BeforeCreate = async _ => copiedBeforeCreate = await HeldWithinAsync(TimeSpan.FromSeconds(2), () => Count(Replica, "B") == 3);

        var pass = await _pair.SyncAsync();

        Assert.That(pass.Converged, Is.True, pass.Summary());
        Assert.That(_pair.Differences(), Is.Empty);
        Assert.That(copiedBeforeCreate, Is.False, "B waited for the tree sync");
    }

    /// <summary>A (3 messages) and B (2) synced; then new mail in B, and in A when asked, and a new folder "New", on the primary.</summary>
    private async Task NewMailBesideANewFolderAsync(bool alsoInA)
    {
        Assume.That(primaryKind == "full" && replicaKind == "full", "only LIST-STATUS shows which folders the tree sync leaves alone");
        Fill("A", 3, "a");
        Fill("B", 2, "b");
        await _pair.SyncAsync();
        if (alsoInA) Primary.Append("A", InMemoryPair.Message("new in A"), MessageFlags.None);
        Primary.Append("B", InMemoryPair.Message("new in B"), MessageFlags.None);
        Primary.Create("New");
    }

    private static int Count(InMemoryMailServer server, string folder)
    {
        lock (server.Sync) return server.Find(folder).Messages.Count;
    }

    private static Task<bool> HeldWithinTenSecondsAsync(Func<bool> condition) => HeldWithinAsync(TimeSpan.FromSeconds(10), condition);

    /// <summary>Waits, for a slow server in a test, until <paramref name="condition"/> holds; false if it did not in time.</summary>
    private static async Task<bool> HeldWithinAsync(TimeSpan time, Func<bool> condition)
    {
        var until = DateTime.UtcNow + time;
        while (!condition())
        {
            if (DateTime.UtcNow >= until) return false;
            await Task.Delay(10);
        }
        return true;
    }

    [Test]
    public async Task APrimaryThatCannotBeReached_IsTheErrorGiven_AndNoReplicaConnectionIsLeftOpen()
    {
        Fill("INBOX", 2, "m");
        _pair.Sessions.Down = ServerRole.Primary;

        var failure = Assert.CatchAsync(async () => await _pair.SyncAsync());

        Assert.That(failure!.Message, Does.Contain("primary could not be reached"));
        Assert.That(_pair.Sessions.Made.Where(m => m.Role == ServerRole.Replica), Is.Not.Empty, "the replica was logged in to meanwhile");
        Assert.That(_pair.Sessions.Made.Where(m => m.Session.IsConnected), Is.Empty);
    }

    [Test]
    public async Task Live_NewMailFlagsAndFolders_ReachTheReplica()
    {
        Fill("INBOX", 3, "start");
        await _pair.StartLiveAsync();

        Primary.Append("INBOX", InMemoryPair.Message("live"), InMemoryPair.Flags(MessageFlags.Seen));
        Primary.SetFlags("INBOX", UidSet.Single(1), InMemoryPair.Flags(MessageFlags.Answered));
        Primary.Create("Later");
        Primary.Append("Later", InMemoryPair.Message("in-later"));

        await _pair.ConvergesAsync();
    }

    [Test]
    public async Task Live_EveryConnectionCut_ReconnectsAndConverges()
    {
        Fill("INBOX", 3, "start");
        await _pair.StartLiveAsync();

        Replica.CutEveryConnection();
        Primary.CutEveryConnection();
        Primary.Append("INBOX", InMemoryPair.Message("after-cut"));
        Primary.Expunge("INBOX", UidSet.Single(2));

        await _pair.ConvergesAsync();
        Assert.That(_pair.Sessions.Connections, Is.GreaterThan(4), "new connections were made");
    }
}

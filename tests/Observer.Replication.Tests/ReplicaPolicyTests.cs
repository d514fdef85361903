using NUnit.Framework;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

/// <summary>
/// Issue 12's policies on the real Dovecot pair: an archive never expunges and never deletes a folder; a delayed replica
/// applies new mail at once but expunges, folder deletions and the old end of a move only once they are older than its delay.
/// </summary>
public class ReplicaPolicyTests
{
    private static readonly MessageFlags Deleted = new([MessageFlags.Deleted]);

    [Test]
    public async Task Archive_KeepsExpungedMessages_MarkedWithItsKeyword_AndFoldersThePrimaryDeleted()
    {
        await using var h = await EngineHarness.CreateAsync(replica: new ReplicaTarget("archive", ReplicaPolicy.Archive, ArchiveKeyword: "$Expunged"));
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await primary.CreateAsync("Old");
        for (var i = 0; i < 3; i++) await primary.AppendAsync("INBOX", MailFactory.Message($"inbox {i}"));
        for (var i = 0; i < 2; i++) await primary.AppendAsync("Old", MailFactory.Message($"old {i}"));
        Assert.That((await h.SyncAsync()).Converged, Is.True);
        var everything = (await h.Accounts.PrimarySnapshotAsync()).Folders.ToDictionary(f => f.Key, f => f.Value.Select(m => m.Md5).ToList());

        await primary.SelectAsync("INBOX");
        // A client marks \Deleted, the mark reaches the archive, then the client expunges.
        await primary.UidStoreAsync(UidSet.Single(1), StoreMode.Add, Deleted, silent: true);
        Assert.That((await h.SyncAsync()).Converged, Is.True);
        await primary.ExpungeAsync();
        await primary.UidStoreAsync(UidSet.Single(2), StoreMode.Add, new MessageFlags([MessageFlags.Seen]), silent: true);
        await primary.UnselectAsync();
        await primary.AppendAsync("INBOX", MailFactory.Message("after the expunge"));
        await primary.DeleteAsync("Old");
        var pass = await h.SyncAsync();
        Assert.That(pass.Converged, Is.True, pass.Summary());

        var replica = await h.Accounts.ReplicaSnapshotAsync();
        Assert.That(replica.Folders.Keys, Does.Contain("Old"), "the archive keeps a folder the primary deleted");
        Assert.That(replica.Folders["Old"].Select(m => m.Md5), Is.EquivalentTo(everything["Old"]));
        var inbox = replica.Folders["INBOX"];
        Assert.That(inbox.Select(m => m.Md5), Is.SupersetOf(everything["INBOX"]), "every message INBOX ever held is still there");
        Assert.That(inbox, Has.Count.EqualTo(4), "three kept or live, one new: nothing twice");
        var expunged = inbox.Single(m => m.Md5 == everything["INBOX"][0]);
        Assert.That(expunged.Flags.Contains("$Expunged"), Is.True, $"the kept copy carries the archive's keyword ({expunged.Flags})");
        Assert.That(expunged.Flags.Contains(MessageFlags.Deleted), Is.False, "the kept copy lost its \\Deleted, or the archive's next EXPUNGE would wipe it");
        Assert.That(inbox.Where(m => m.Md5 != expunged.Md5).Select(m => m.Flags.Contains("$Expunged")), Has.All.False);
        Assert.That(inbox.Single(m => m.Md5 == everything["INBOX"][1]).Flags.Contains(MessageFlags.Seen), Is.True, "flags still follow the primary");

        // Kept copies are known: a second pass, even a full one, neither removes nor copies anything.
        var again = await h.SyncAsync(full: true);
        Assert.That(again.ChangedAnything, Is.False, again.Summary());
        var (verified, _) = await h.Engine.VerifyAsync(repair: false, force: false, CancellationToken.None);
        Assert.That(verified.Identical, Is.True, "verify counts what an archive keeps as kept, not as damage");
        Assert.That(verified.KeptFolders.Select(f => f.Folder), Does.Contain("Old"));
        Assert.That(verified.Folders.Single(f => f.Folder == "INBOX").KeptOnReplica, Has.Count.EqualTo(1));

        // Restored from the archive, the message is the primary's again: the archive takes its kept copy back, not a second one.
        var restored = await h.Engine.RestoreAsync(folder: "INBOX", since: null, CancellationToken.None);
        Assert.That(restored.Messages, Is.EqualTo(1));
        Assert.That((await h.SyncAsync()).Converged, Is.True);
        var back = (await h.Accounts.ReplicaSnapshotAsync()).Folders["INBOX"];
        Assert.That(back, Has.Count.EqualTo(4), "the kept copy was taken back, not doubled");
        Assert.That(back.Single(m => m.Md5 == everything["INBOX"][0]).Flags.Contains("$Expunged"), Is.False, "it is a live message again");
    }

    [Test]
    public async Task Archive_AMessageExpungedAndAppendedAgainBetweenTwoPasses_IsTakenBack_NotKeptTwice()
    {
        await using var h = await EngineHarness.CreateAsync(replica: new ReplicaTarget("archive", ReplicaPolicy.Archive));
        await using var primary = await h.Accounts.PrimaryClientAsync();
        var bytes = await ExpungedAndAppendedAgainAsync(h, primary);
        Assert.That((await h.SyncAsync()).Converged, Is.True);

        var inbox = (await h.Accounts.ReplicaSnapshotAsync()).Folders["INBOX"];
        Assert.That(inbox, Has.Count.EqualTo(2), "the old copy was taken back, not kept beside a new one");
        Assert.That(inbox.Single(m => m.Flags.Contains(MessageFlags.Seen)).Size, Is.EqualTo(bytes.Length));
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty);
    }

    [Test]
    public async Task Archive_AMessageTakenBack_WhileAFlagWasChangedOnTheReplica_LeavesOneRowForItsCopy()
    {
        await using var h = await EngineHarness.CreateAsync(replica: new ReplicaTarget("archive", ReplicaPolicy.Archive));
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await ExpungedAndAppendedAgainAsync(h, primary);
        // A change behind Observer's back: the pass must read the replica's flags against the rows its copy left.
        await using (var replica = await h.Accounts.ReplicaClientAsync())
        {
            await replica.SelectAsync("INBOX");
            await replica.UidStoreAsync(UidSet.Single(2), StoreMode.Add, new MessageFlags([MessageFlags.Flagged]), silent: true);
        }

        var pass = await h.SyncAsync();

        Assert.That(pass.Converged, Is.True, h.Log.AllText);
        var inbox = (await h.Accounts.ReplicaSnapshotAsync()).Folders["INBOX"];
        Assert.That(inbox, Has.Count.EqualTo(2), "the old copy was taken back, not kept beside a new one");
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty, "the flag set on the replica is put back to the primary's");
        var rows = h.Store.Messages.ForFolder(h.Store.Folders.Find(h.Store.Replicas.Find("archive")!.Id, "INBOX")!.Id).Values;
        Assert.That(rows.Select(r => r.ReplicaUid), Is.Unique, "one row per replica copy");
    }

    /// <summary>
    /// Two messages copied to the archive; then what a client that re-files a message in place does: the first one
    /// expunged and appended again, the same bytes and date under a new UID, in one pass's delta. Returns its bytes.
    /// </summary>
    private static async Task<byte[]> ExpungedAndAppendedAgainAsync(EngineHarness h, UserImapClient primary)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(MailFactory.Text("comes back"));
        var date = new DateTimeOffset(2026, 11, 30, 9, 0, 0, TimeSpan.Zero);
        await primary.AppendAsync("INBOX", new AppendMessage(ImapLiteral.FromBytes(bytes), null, date));
        await primary.AppendAsync("INBOX", MailFactory.Message("stays"));
        Assert.That((await h.SyncAsync()).Converged, Is.True);

        await primary.SelectAsync("INBOX");
        await primary.UidStoreAsync(UidSet.Single(1), StoreMode.Add, Deleted, silent: true);
        await primary.ExpungeAsync();
        await primary.UnselectAsync();
        await primary.AppendAsync("INBOX", new AppendMessage(ImapLiteral.FromBytes(bytes), new MessageFlags([MessageFlags.Seen]), date));
        return bytes;
    }

    [Test]
    public async Task Delayed_HoldsExpungesFolderDeletionsAndTheOldEndOfAMove_ForTheDelay_ThroughARestart_ThenAppliesThem()
    {
        var delay = TimeSpan.FromSeconds(8);
        await using var h = await EngineHarness.CreateAsync(replica: new ReplicaTarget("yesterday", ReplicaPolicy.Delayed, delay));
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await primary.CreateAsync("Old");
        await primary.CreateAsync("Archive");
        for (var i = 0; i < 4; i++) await primary.AppendAsync("INBOX", MailFactory.Message($"inbox {i}", messageId: $"<d{i}.{Guid.NewGuid():N}@example.com>"));
        await primary.AppendAsync("Old", MailFactory.Message("old"));
        Assert.That((await h.SyncAsync()).Converged, Is.True);
        var before = (await h.Accounts.PrimarySnapshotAsync()).Folders["INBOX"].Select(m => m.Md5).ToList();

        var changed = DateTimeOffset.UtcNow;
        await primary.SelectAsync("INBOX");
        await primary.UidStoreAsync(UidSet.Single(1), StoreMode.Add, Deleted, silent: true);
        await primary.ExpungeAsync();
        await primary.UidMoveAsync(UidSet.Single(2), "Archive");
        await primary.UnselectAsync();
        await primary.DeleteAsync("Old");
        await primary.AppendAsync("INBOX", MailFactory.Message("new mail goes at once"));

        Assert.That((await h.SyncAsync()).Converged, Is.True);
        var replicaId = h.Store.Replicas.Find("yesterday")!.Id;
        var goneSince = h.Store.Folders.Find(replicaId, "Old")!.GoneSince;
        Assert.That(goneSince, Is.Not.Null, "the folder's clock is in the state");
        h.Restart();
        await h.SyncAsync();
        Assert.That(h.Store.Folders.Find(replicaId, "Old")!.GoneSince, Is.EqualTo(goneSince), "a restart goes on with the clock it found, not a new one");
        if (DateTimeOffset.UtcNow - changed >= delay) Assert.Inconclusive("the machine took longer than the delay to get here; nothing was shown");
        var held = await h.Accounts.ReplicaSnapshotAsync();
        var primaryNow = await h.Accounts.PrimarySnapshotAsync();
        Assert.That(held.Folders.Keys, Does.Contain("Old"), "the folder deletion waits out the delay, across a restart");
        Assert.That(held.Folders["INBOX"].Select(m => m.Md5), Is.SupersetOf(before), "the expunged and the moved message are still in INBOX");
        Assert.That(held.Folders["INBOX"].Select(m => m.Md5), Is.SupersetOf(primaryNow.Folders["INBOX"].Select(m => m.Md5)), "new mail went at once");
        Assert.That(held.Folders["Archive"].Select(m => m.Md5), Is.EquivalentTo(primaryNow.Folders["Archive"].Select(m => m.Md5)), "the move shows at once in its new folder");

        // Once the delay has passed, a pass applies it all and the replica is the primary's copy.
        await Eventually.HoldsAsync(async () =>
        {
            await h.SyncAsync();
            return (await h.Accounts.DifferencesAsync()).Count == 0;
        }, TimeSpan.FromSeconds(60), async () => string.Join("; ", await h.Accounts.DifferencesAsync()), every: TimeSpan.FromSeconds(2));
        Assert.That(h.Store.Folders.Find(replicaId, "Old"), Is.Null);
    }

    [Test]
    public async Task Delayed_AddsFlagsAtOnce_HoldsEachRemovalOnItsOwnClock_ThroughARestart_AndVerifySetsThemApart()
    {
        var delay = TimeSpan.FromSeconds(8);
        await using var h = await EngineHarness.CreateAsync(replica: new ReplicaTarget("yesterday", ReplicaPolicy.Delayed, delay));
        await using var primary = await h.Accounts.PrimaryClientAsync();
        for (var i = 0; i < 3; i++) await primary.AppendAsync("INBOX", MailFactory.Message($"inbox {i}", new MessageFlags([MessageFlags.Seen, MessageFlags.Answered, "$Work"])));
        Assert.That((await h.SyncAsync()).Converged, Is.True);

        var first = DateTimeOffset.UtcNow;
        await primary.SelectAsync("INBOX");
        // A mistake: every message marked unread and its keyword stripped; and a flag added, which is no mistake to hold.
        await primary.UidStoreAsync(UidSet.All, StoreMode.Remove, new MessageFlags([MessageFlags.Seen, "$Work"]), silent: true);
        await primary.UidStoreAsync(UidSet.Single(1), StoreMode.Add, new MessageFlags([MessageFlags.Flagged]), silent: true);
        await h.SyncAsync();
        h.Restart();
        await h.SyncAsync();
        var (report, _) = await h.Engine.VerifyAsync(repair: false, force: false, CancellationToken.None);
        if (DateTimeOffset.UtcNow - first >= delay) Assert.Inconclusive("the machine took longer than the delay to get here; nothing was shown");
        var held = (await h.Accounts.ReplicaSnapshotAsync()).Folders["INBOX"];
        Assert.That(held.Select(m => m.Flags.Contains(MessageFlags.Seen) && m.Flags.Contains("$Work")), Has.All.True, "the removals wait, across a restart");
        Assert.That(held.Count(m => m.Flags.Contains(MessageFlags.Flagged)), Is.EqualTo(1), "an added flag goes at once");
        Assert.That(report.Identical, Is.True, "held removals are the policy, not damage: " + string.Join("; ", report.Folders.Select(f => f.Describe())));
        Assert.That(report.Folders.Single(f => f.Folder == "INBOX").FlagRemovalsHeld, Has.Count.EqualTo(3));

        // A second removal, later: it waits for its own delay, not for the first one's.
        await Eventually.HoldsAsync(() => Task.FromResult(DateTimeOffset.UtcNow - first >= delay / 2), delay);
        var second = DateTimeOffset.UtcNow;
        await primary.UidStoreAsync(UidSet.Single(2), StoreMode.Remove, new MessageFlags([MessageFlags.Answered]), silent: true);
        await primary.UnselectAsync();
        await h.SyncAsync();
        await Eventually.HoldsAsync(async () =>
        {
            await h.SyncAsync();
            return (await h.Accounts.ReplicaSnapshotAsync()).Folders["INBOX"].All(m => !m.Flags.Contains(MessageFlags.Seen));
        }, TimeSpan.FromSeconds(60), every: TimeSpan.FromMilliseconds(500));
        var afterFirst = (await h.Accounts.ReplicaSnapshotAsync()).Folders["INBOX"];
        if (DateTimeOffset.UtcNow - second >= delay) Assert.Inconclusive("the machine took longer than the second delay to get here; nothing was shown");
        Assert.That(afterFirst.All(m => !m.Flags.Contains("$Work")), Is.True, "the first removals were applied together, once due");
        Assert.That(afterFirst.Single(m => m.Uid == 2).Flags.Contains(MessageFlags.Answered), Is.True, "the second removal still waits");

        await Eventually.HoldsAsync(async () =>
        {
            await h.SyncAsync();
            return (await h.Accounts.DifferencesAsync()).Count == 0;
        }, TimeSpan.FromSeconds(60), async () => string.Join("; ", await h.Accounts.DifferencesAsync()), every: TimeSpan.FromSeconds(1));
        Assert.That(h.Store.HeldFlags.Oldest(h.Store.Replicas.Find("yesterday")!.Id), Is.Empty, "nothing is held once applied");
    }

    [Test]
    public async Task Delayed_WhileLive_AppliesAHeldFlagRemovalWhenItFallsDue_WithNoFurtherChangeOnThePrimary()
    {
        var delay = TimeSpan.FromSeconds(4);
        await using var h = await EngineHarness.CreateAsync(replica: new ReplicaTarget("yesterday", ReplicaPolicy.Delayed, delay));
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await primary.AppendAsync("INBOX", MailFactory.Message("read", new MessageFlags([MessageFlags.Seen])));
        await h.StartLiveAsync();
        await h.ConvergesAsync();

        var removed = DateTimeOffset.UtcNow;
        await primary.SelectAsync("INBOX");
        await primary.UidStoreAsync(UidSet.All, StoreMode.Remove, new MessageFlags([MessageFlags.Seen]), silent: true);
        await primary.UnselectAsync();
        var replicaId = h.Store.Replicas.Find("yesterday")!.Id;
        await Eventually.HoldsAsync(() => Task.FromResult(h.Store.HeldFlags.Oldest(replicaId).Count == 1), TimeSpan.FromSeconds(30));
        Assert.That((await h.Accounts.ReplicaSnapshotAsync()).Folders["INBOX"].Single().Flags.Contains(MessageFlags.Seen), Is.True, "held");

        await h.ConvergesAsync(seconds: 40);
        Assert.That(DateTimeOffset.UtcNow - removed, Is.GreaterThanOrEqualTo(delay), "not before its delay");
        await Eventually.HoldsAsync(() => Task.FromResult(h.Store.HeldFlags.Oldest(replicaId).Count == 0), TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task Restore_FromADelayedReplica_BringsBackWhatThePrimaryLost_IntoItsFolders_OnceOnly()
    {
        await using var h = await EngineHarness.CreateAsync(replica: new ReplicaTarget("yesterday", ReplicaPolicy.Delayed, TimeSpan.FromHours(1)));
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await primary.CreateAsync("Projects");
        await primary.CreateAsync("Archive");
        for (var i = 0; i < 4; i++) await primary.AppendAsync("INBOX", MailFactory.Message($"inbox {i}", new MessageFlags([MessageFlags.Seen])));
        for (var i = 0; i < 2; i++) await primary.AppendAsync("Projects", MailFactory.Message($"project {i}"));
        Assert.That((await h.SyncAsync()).Converged, Is.True);
        var before = await h.Accounts.PrimarySnapshotAsync();

        // A user's mistake: two messages expunged, a folder deleted; and a message moved, which is not lost.
        await primary.SelectAsync("INBOX");
        await primary.UidStoreAsync(UidSet.Range(1, 2), StoreMode.Add, Deleted, silent: true);
        await primary.ExpungeAsync();
        await primary.UidMoveAsync(UidSet.Single(3), "Archive");
        await primary.UnselectAsync();
        await primary.DeleteAsync("Projects");
        await h.SyncAsync();

        var restored = await h.Engine.RestoreAsync(folder: null, since: null, CancellationToken.None);
        Assert.That(restored.Folders.Select(f => (f.Folder, f.Messages, f.Created)), Is.EquivalentTo(new[] { ("INBOX", 2, false), ("Projects", 2, true) }));
        var after = await h.Accounts.PrimarySnapshotAsync();
        foreach (var folder in new[] { "INBOX", "Projects" })
            Assert.That(after.Folders[folder].Select(m => (m.Md5, m.InternalDate, m.Flags.ToString())),
                Is.SupersetOf(before.Folders[folder].Where(m => folder != "INBOX" || m.Uid != 3).Select(m => (m.Md5, m.InternalDate, m.Flags.ToString()))),
                $"{folder}: the lost messages are back, with their dates and flags");
        var all = after.Folders.Values.SelectMany(f => f.Select(m => m.Md5)).ToList();
        Assert.That(all, Is.Unique, "the moved message was not copied back beside itself");
        Assert.That(all, Has.Count.EqualTo(6));

        var again = await h.Engine.RestoreAsync(folder: null, since: null, CancellationToken.None);
        Assert.That(again.Messages, Is.Zero, "a second restore copies nothing");
    }
}

using NUnit.Framework;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

public class RecoveryTests
{
    [Test]
    public async Task CrashAfterAppendBeforeItIsRecorded_RetryAdoptsTheCopy_NoDuplicate()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using (var primary = await h.Accounts.PrimaryClientAsync())
            await MailFactory.FillAsync(primary, "INBOX", 40);
        h.Replica.CrashAfterNextAppend = 1;

        var pass = await h.SyncAsync();

        Assert.That(h.Log.AllText, Does.Contain("simulated crash"));
        Assert.That(pass.Converged, Is.True);
        var primarySnapshot = await h.Accounts.PrimarySnapshotAsync();
        var replicaSnapshot = await h.Accounts.ReplicaSnapshotAsync();
        Assert.That(primarySnapshot.Differences(replicaSnapshot), Is.Empty);
        Assert.That(replicaSnapshot.DuplicatesAgainst(primarySnapshot), Is.Zero);
        Assert.That(pass.Folders.Single().Adopted, Is.GreaterThan(0), "the copies the crash left behind are adopted by MD5");
        Assert.That(h.Replica.Appended, Is.EqualTo(40), "nothing was uploaded twice");
        Assert.That(h.Store.Journal.OpenCount(h.Store.Replicas.Find("replica")!.Id), Is.Zero);
    }

    /// <summary>
    /// A server can carry out an APPEND whose connection was cut under it, a moment later: the copies then land after
    /// the next pass has read the replica folder, beside the ones that pass appends again. They are Observer's own
    /// duplicates, and go even from a replica that keeps what the primary no longer has.
    /// </summary>
    [TestCase(ReplicaPolicy.Mirror)]
    [TestCase(ReplicaPolicy.Archive)]
    [TestCase(ReplicaPolicy.Delayed)]
    public async Task AnAppendCutAndCarriedOutLate_AfterTheNextPassReadTheReplica_LeavesNoDuplicate(ReplicaPolicy policy)
    {
        await using var h = await PassesAfterACutAppendAsync(Target(policy), late => late.Messages);

        var primarySnapshot = await h.Accounts.PrimarySnapshotAsync();
        var replicaSnapshot = await h.Accounts.ReplicaSnapshotAsync();
        Assert.That(primarySnapshot.Differences(replicaSnapshot), Is.Empty);
        Assert.That(replicaSnapshot.DuplicatesAgainst(primarySnapshot), Is.Zero);
        Assert.That(h.Log.AllText, Does.Contain("removed 5 copies that the replica stored twice"), "removed as duplicates, in the pass they landed in");
        Assert.That(h.Store.Journal.OpenCount(h.Store.Replicas.Find("replica")!.Id), Is.Zero);
    }

    /// <summary>
    /// What lands in the replica folder during a pass that began with work in doubt, and is no copy of that work (here a
    /// message of someone else's), is not taken as accounted for: the next pass reads the replica folder and finds it
    /// among the extras. A mirror removes it; an archive or a delayed replica, which never remove an extra, keep it.
    /// </summary>
    [TestCase(ReplicaPolicy.Mirror)]
    [TestCase(ReplicaPolicy.Archive)]
    [TestCase(ReplicaPolicy.Delayed)]
    public async Task AMessageOfSomeoneElsesLandsWhileAPassSettlesAnAppendInDoubt_IsFoundByTheNextPass(ReplicaPolicy policy)
    {
        var target = Target(policy);
        var foreign = MailFactory.Message("not the primary's");
        var foreignMd5 = Convert.ToHexString(System.Security.Cryptography.MD5.HashData(foreign.Content.ToArray()));
        await using var h = await PassesAfterACutAppendAsync(target, _ => [foreign]);

        var primarySnapshot = await h.Accounts.PrimarySnapshotAsync();
        var replicaSnapshot = await h.Accounts.ReplicaSnapshotAsync();
        var kept = replicaSnapshot.Folders["INBOX"].Count(m => m.Md5.Equals(foreignMd5, StringComparison.OrdinalIgnoreCase));
        if (policy == ReplicaPolicy.Mirror)
        {
            Assert.That(primarySnapshot.Differences(replicaSnapshot), Is.Empty);
            Assert.That(h.Log.AllText, Does.Contain("removed replica uid"), "removed by the pass after, as an extra");
        }
        else
        {
            Assert.That(kept, Is.EqualTo(1), "an extra stays on a replica that keeps what the primary does not have");
            Assert.That(h.Log.AllText, Does.Contain($"1 messages on the replica are not on the primary; a {target.Mode} replica leaves them"));
        }
        Assert.That(replicaSnapshot.DuplicatesAgainst(primarySnapshot), Is.Zero);
        Assert.That(h.Log.AllText, Does.Contain("1 messages came into the replica folder during the pass that it did not write"));
        Assert.That(h.Store.Journal.OpenCount(h.Store.Replicas.Find("replica")!.Id), Is.Zero);
    }

    private static ReplicaTarget Target(ReplicaPolicy policy) =>
        new("replica", policy, policy == ReplicaPolicy.Delayed ? TimeSpan.FromHours(1) : default);

    /// <summary>
    /// Sixty messages copied, then five new ones whose APPEND is cut under its answer. Right after the replica's first
    /// SEARCH since then (the next pass reading the folder whole), another connection stores what
    /// <paramref name="lands"/> makes of the cut APPEND: as the server would, carrying it out late. Then three passes.
    /// </summary>
    private static async Task<EngineHarness> PassesAfterACutAppendAsync(ReplicaTarget target,
        Func<(string Folder, IReadOnlyList<AppendMessage> Messages), IReadOnlyList<AppendMessage>> lands)
    {
        var h = await EngineHarness.CreateAsync(replica: target);
        try
        {
            await using (var primary = await h.Accounts.PrimaryClientAsync())
            {
                await MailFactory.FillAsync(primary, "INBOX", 60);
                Assert.That((await h.SyncAsync()).Converged, Is.True);
                for (var i = 0; i < 5; i++) await primary.AppendAsync("INBOX", MailFactory.Message($"late {i}"));
            }
            h.Replica.CutUnderNextAppend = 1;
            Func<Task>? carryOutLate = null;
            carryOutLate = async () =>
            {
                if (h.Replica.LateAppend is not { } late)
                {
                    h.Replica.AfterNextSearch = carryOutLate;
                    return;
                }
                Assert.That(late.Messages, Has.Count.EqualTo(5), "the cut APPEND held the five new messages");
                await using var replica = await h.Accounts.ReplicaClientAsync();
                await replica.MultiAppendAsync(late.Folder, lands(late));
            };
            h.Replica.AfterNextSearch = carryOutLate;

            for (var pass = 0; pass < 3; pass++) await h.SyncAsync();

            Assert.That(h.Replica.AfterNextSearch, Is.Null, "what the cut APPEND left was stored late");
            return h;
        }
        catch
        {
            await h.DisposeAsync();
            throw;
        }
    }

    [Test]
    public async Task UidValidityChangeOnPrimary_FolderIsRemappedByMd5_WithoutUploads()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "Box", 30);
        await h.SyncAsync();
        var uploads = h.Replica.Appended;
        var replicaBefore = await h.Accounts.ReplicaSnapshotAsync();

        // Delete and recreate the folder with the same messages: same bytes, new UIDVALIDITY and UIDs.
        var saved = await ReadAllAsync(primary, "Box");
        var validity = (await primary.StatusAsync("Box", StatusItems.UidValidity)).UidValidity;
        await primary.DeleteAsync("Box");
        await Task.Delay(1100);
        await primary.CreateAsync("Box");
        await primary.MultiAppendAsync("Box", saved);
        Assert.That((await primary.StatusAsync("Box", StatusItems.UidValidity)).UidValidity, Is.Not.EqualTo(validity));

        var pass = await h.SyncAsync();
        Assert.That(pass.Converged, Is.True);
        Assert.That(h.Log.AllText, Does.Contain("UIDVALIDITY changed on the primary"));
        Assert.That(h.Replica.Appended, Is.EqualTo(uploads), "matching messages are re-mapped, not uploaded again");
        Assert.That((await h.Accounts.ReplicaSnapshotAsync()).Folders["Box"].Select(m => m.Uid), Is.EquivalentTo(replicaBefore.Folders["Box"].Select(m => m.Uid)));
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty);
    }

    [Test]
    public async Task UidValidityChangeOnReplica_FolderIsRemappedByMd5_WithoutUploads()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using (var primary = await h.Accounts.PrimaryClientAsync())
            await MailFactory.FillAsync(primary, "Box", 20);
        await h.SyncAsync();
        var uploads = h.Replica.Appended;
        await using (var replica = await h.Accounts.ReplicaClientAsync())
        {
            // As if the replica folder were restored from a backup: same messages, new UIDVALIDITY.
            var saved = await ReadAllAsync(replica, "Box");
            await replica.DeleteAsync("Box");
            await Task.Delay(1100);
            await replica.CreateAsync("Box");
            await replica.MultiAppendAsync("Box", saved);
        }
        var pass = await h.SyncAsync();
        Assert.That(pass.Converged, Is.True);
        Assert.That(h.Log.AllText, Does.Contain("UIDVALIDITY changed on the replica"));
        Assert.That(h.Replica.Appended, Is.EqualTo(uploads));
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty);
    }

    [Test]
    public async Task ReplicaFolderDeletedBehindOurBack_IsRecreatedAndRefilled()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using (var primary = await h.Accounts.PrimaryClientAsync())
            await MailFactory.FillAsync(primary, "Keep", 12);
        await h.SyncAsync();
        await using (var replica = await h.Accounts.ReplicaClientAsync())
            await replica.DeleteAsync("Keep");
        var pass = await h.SyncAsync();
        Assert.That(pass.Converged, Is.True);
        Assert.That(h.Replica.Appended, Is.EqualTo(24));
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty);
    }

    [Test]
    public async Task DeleteGuard_FolderEmptiedBehindOurBack_HoldsOnlyTheDeletions_UntilApproved()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "Precious", 50);
        await MailFactory.FillAsync(primary, "Other", 5);
        await h.SyncAsync();

        await ExpungeAsync(primary, "Precious", UidSet.Range(1, 40));
        await primary.UidStoreAsync(UidSet.Single(45), StoreMode.Add, new MessageFlags(["\\Flagged"]));
        await primary.AppendAsync("Precious", MailFactory.Message("new mail into the held folder itself"));
        await primary.AppendAsync("Other", MailFactory.Message("other folders still move on"));

        var pass = await h.SyncAsync();
        var held = pass.Folders.Single(f => f.Folder == "Precious");
        Assert.That((pass.Converged, held.Outcome), Is.EqualTo((false, FolderOutcome.Held)));
        Assert.That(held.Message, Does.Contain("from 50 to 11").And.Contain("observer approve Precious"));
        var replica = await h.Accounts.ReplicaSnapshotAsync();
        Assert.That(replica.Folders["Precious"], Has.Count.EqualTo(51), "nothing is deleted, the new message is copied");
        var flaggedMd5 = (await h.Accounts.PrimarySnapshotAsync()).Folders["Precious"].Single(m => m.Uid == 45).Md5;
        Assert.That(replica.Folders["Precious"].Single(m => m.Md5 == flaggedMd5).Flags.Contains("\\Flagged"), Is.True, "flag changes go through");
        Assert.That(replica.Folders["Other"], Has.Count.EqualTo(6), "other folders keep replicating");
        var replicaId = h.Store.Replicas.Find("replica")!.Id;
        Assert.That(h.Store.Troubles.All(replicaId), Is.Empty, "a hold is not a trouble: the folder is not retried with backoff");
        Assert.That(h.Store.Holds.All(replicaId).Single(), Has.Property("Folder").EqualTo("Precious").And.Property("Count").EqualTo(40));

        Assert.That((await h.SyncAsync()).Converged, Is.False, "a second pass still holds");
        Assert.That(h.Store.Holds.Approve(replicaId, "Precious"), Is.EqualTo(1));
        Assert.That((await h.SyncAsync()).Converged, Is.True);
        Assert.That(h.Store.Holds.All(replicaId), Is.Empty, "the hold is gone once applied");
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty);
    }

    [Test]
    public async Task DeleteGuard_BusyFolderWhoseMessagesComeAndGo_IsNeverHeld()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 30);
        await h.SyncAsync();

        // A POP-style client: every message fetched and deleted, as many new ones arrived, while observer was away.
        await ExpungeAsync(primary, "INBOX", UidSet.Range(1, 30));
        await MailFactory.FillAsync(primary, "INBOX", 28);

        var pass = await h.SyncAsync();
        Assert.That(pass.Folders.Single(f => f.Folder == "INBOX").Outcome, Is.EqualTo(FolderOutcome.Synced), "30 of 30 deleted, but the folder kept its size");
        Assert.That(pass.Converged, Is.True);
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty);
    }

    [Test]
    public async Task DeleteGuard_FolderBackWithinTheSwingItShowed_IsNotHeld_ButBelowItsFewestIs()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 60);
        await h.SyncAsync();
        await ExpungeAsync(primary, "INBOX", UidSet.Range(1, 10));
        Assert.That((await h.SyncAsync()).Converged, Is.True, "10 deletions are within the floor");
        await MailFactory.FillAsync(primary, "INBOX", 20);
        Assert.That((await h.SyncAsync()).Converged, Is.True);

        // 70 down to 50 behind observer's back is 29 %, but the folder held 50 an hour ago: a busy inbox's swing.
        await ExpungeAsync(primary, "INBOX", UidSet.Range(11, 32));
        await MailFactory.FillAsync(primary, "INBOX", 2);
        var swing = await h.SyncAsync();
        Assert.That(swing.Folders.Single(f => f.Folder == "INBOX").Outcome, Is.EqualTo(FolderOutcome.Synced), swing.Folders.Single(f => f.Folder == "INBOX").Message);
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty);

        // Well below the fewest it held is what the guard is for.
        await MailFactory.FillAsync(primary, "INBOX", 10);
        Assert.That((await h.SyncAsync()).Converged, Is.True);
        await ExpungeAsync(primary, "INBOX", UidSet.Range(33, 60));
        var drop = (await h.SyncAsync()).Folders.Single(f => f.Folder == "INBOX");
        Assert.That(drop.Outcome, Is.EqualTo(FolderOutcome.Held));
        Assert.That(drop.Message, Does.Contain("from 60 to 32 messages, and from 50, the fewest it held in the last 24 hours"));
    }

    [Test]
    public async Task DeleteGuard_FirstSyncIntoAFilledReplica_HoldsUnexplainedDeletions_VerifyRepairForceAppliesThem()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using (var replica = await h.Accounts.ReplicaClientAsync()) await MailFactory.FillAsync(replica, "INBOX", 30);
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 2);

        var pass = await h.SyncAsync();
        var inbox = pass.Folders.Single(f => f.Folder == "INBOX");
        Assert.That(inbox.Outcome, Is.EqualTo(FolderOutcome.Held), "the wrong account on the replica, perhaps: 30 messages the primary never had");
        Assert.That(inbox.Message, Does.Contain("30 of 30"));
        Assert.That((await h.Accounts.ReplicaSnapshotAsync()).Folders["INBOX"], Has.Count.EqualTo(32), "the primary's two are copied, nothing deleted");

        var (_, unforced) = await h.Engine.VerifyAsync(repair: true, force: false, CancellationToken.None);
        Assert.That(unforced!.Identical, Is.False, "without --force the guard still holds");
        var (_, after) = await h.Engine.VerifyAsync(repair: true, force: true, CancellationToken.None);
        Assert.That(after!.Identical, Is.True);
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty);
    }

    [Test]
    public async Task AFolderDeletedOnThePrimaryWhileVerifyReads_IsLeftOut_NotAFailedVerify()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "A", 3);
        await MailFactory.FillAsync(primary, "B", 3);
        await h.SyncAsync();
        // Verify reads the folders in order: the user deletes B once A's messages have been read, before B is opened.
        h.Sessions.Primary.AfterNextDigestFetch = () => primary.DeleteAsync("B");

        var (report, _) = await h.Engine.VerifyAsync(repair: false, force: false, CancellationToken.None);

        Assert.That(h.Sessions.Primary.AfterNextDigestFetch, Is.Null, "B was deleted while verify ran");
        Assert.That(report.Folders.Select(f => f.Folder), Does.Contain("A").And.Not.Contain("B"), "a folder gone meanwhile is a change on its way, not judged");
        Assert.That(report.Identical, Is.True);
    }

    [Test]
    public async Task Verify_CatchesChangesBehindOurBack_AndRepairFixesThem()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using (var primary = await h.Accounts.PrimaryClientAsync())
        {
            await MailFactory.FillAsync(primary, "INBOX", 15);
            await MailFactory.FillAsync(primary, "Lists.Dev", 5);
        }
        await h.SyncAsync();
        var (clean, _) = await h.Engine.VerifyAsync(repair: false, force: false, CancellationToken.None);
        Assert.That(clean.Identical, Is.True);

        await using (var replica = await h.Accounts.ReplicaClientAsync())
        {
            await replica.SelectAsync("INBOX");
            await replica.UidStoreAsync(UidSet.Single(2), StoreMode.Replace, new MessageFlags(["\\Answered"]));
            await replica.UidStoreAsync(UidSet.Single(5), StoreMode.Add, new MessageFlags(["\\Deleted"]));
            await replica.UidExpungeAsync(UidSet.Single(5));
            await replica.AppendAsync("INBOX", MailFactory.Message("planted on the replica"));
            await replica.CreateAsync("Stray");
        }
        var (found, _) = await h.Engine.VerifyAsync(repair: false, force: false, CancellationToken.None);
        var inbox = found.Folders.Single(f => f.Folder == "INBOX");
        Assert.That((inbox.MissingOnReplica.Count, inbox.ExtraOnReplica.Count, inbox.FlagMismatches.Count()), Is.EqualTo((1, 1, 1)));
        Assert.That(found.ReplicaOnlyFolders.Select(f => f.Folder), Is.EqualTo(new[] { "Stray" }));

        var (_, repaired) = await h.Engine.VerifyAsync(repair: true, force: false, CancellationToken.None);
        Assert.That(repaired!.Identical, Is.True);
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty);
    }

    private static async Task<List<AppendMessage>> ReadAllAsync(UserImapClient client, string folder)
    {
        await client.ExamineAsync(folder);
        var messages = new List<AppendMessage>();
        await foreach (var m in client.UidFetchStreamAsync(UidSet.All, new FetchRequest(FetchItems.Flags | FetchItems.InternalDate | FetchItems.Body)))
            using (m) messages.Add(new AppendMessage(ImapLiteral.FromBytes(m.Body!.ToArray()), m.Flags!.WithoutRecent(), m.InternalDate));
        await client.UnselectAsync();
        return messages;
    }

    /// <summary>Deletes <paramref name="uids"/> from <paramref name="folder"/> as a mail client does, leaving the folder selected.</summary>
    private static async Task ExpungeAsync(UserImapClient client, string folder, UidSet uids)
    {
        await client.SelectAsync(folder);
        await client.UidStoreAsync(uids, StoreMode.Add, new MessageFlags([MessageFlags.Deleted]), silent: true);
        await client.UidExpungeAsync(uids);
    }
}

using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

/// <summary>
/// Issue 8, item 13: a message expunged on the primary while its body is fetched comes back empty
/// (RFC822.SIZE still says otherwise). It is gone, not empty: never APPENDed, and never a trouble.
/// A real server cannot be made to do that on cue, so the primary session empties one body.
/// </summary>
public class VanishedWhileCopiedTests
{
    /// <param name="sizeSaysZero">Whether RFC822.SIZE comes back 0 as well: Dovecot did so under churn (ChurnTests).</param>
    [TestCase(false)]
    [TestCase(true)]
    public async Task BodyFetchedEmpty_IsNotAppended_TheRestOfTheFolderIsCopied(bool sizeSaysZero)
    {
        await using var h = await EngineHarness.CreateAsync();
        await using (var primary = await h.Accounts.PrimaryClientAsync())
            await MailFactory.FillAsync(primary, "INBOX", 5);
        h.Sessions.Primary.EmptyBodies.Add(3);
        h.Sessions.Primary.EmptyBodiesSayZeroSize = sizeSaysZero;

        var pass = await h.SyncAsync();
        var replicaSizes = (await h.Accounts.ReplicaSnapshotAsync()).Folders["INBOX"].Select(m => m.Size).ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(h.Replica.EmptyAppends, Is.Zero, "no empty message is offered to the replica");
            Assert.That(replicaSizes, Has.Count.EqualTo(4).And.None.LessThan(10), "the four others are copied, and no stand-in for the empty body");
            var inbox = pass.Folders.Single(f => f.Folder == "INBOX");
            Assert.That(inbox.Outcome, Is.Not.EqualTo(FolderOutcome.Failed).And.Not.EqualTo(FolderOutcome.Incomplete), inbox.Message);
            Assert.That(h.Store.Troubles.All(h.Store.Replicas.Find("replica")!.Id), Is.Empty);
            Assert.That(h.Log.AllText, Does.Not.Contain("zero byte"));
        }
    }

    /// <summary>
    /// A message the primary listed but did not deliver, with an empty body or none at all (its answer lost on
    /// the way, unnoticed), is looked at again: the checkpoint once moved past a missing one, and a folder
    /// whose STATUS then matched was never read again.
    /// </summary>
    [TestCase(true, TestName = "BodyFetchedEmptyButTheMessageIsStillThere_TheNextSyncCopiesIt")]
    [TestCase(false, TestName = "BodyNeverDelivered_TheCheckpointDoesNotPassIt_TheNextSyncCopiesIt")]
    public async Task BodyNotDelivered_TheNextSyncCopiesIt(bool empty)
    {
        await using var h = await EngineHarness.CreateAsync();
        await using (var primary = await h.Accounts.PrimaryClientAsync())
            await MailFactory.FillAsync(primary, "INBOX", 5);
        var withheld = empty ? h.Sessions.Primary.EmptyBodies : h.Sessions.Primary.UndeliveredBodies;
        withheld.UnionWith([1, 3]);
        var first = await h.SyncAsync();
        Assert.That(h.Replica.Appended, Is.EqualTo(3), "the two bodies not delivered were not copied");
        // An empty body is Dovecot's answer for a message expunged meanwhile: gone. One that never came may still be there.
        Assert.That(first.Converged, Is.EqualTo(empty), first.Summary());
        if (!empty) Assert.That(h.Log.AllText, Does.Contain("INBOX: 2 messages listed but not sent by the primary"), "the log says the folder is not whole");
        var inbox = h.Store.Folders.All(h.Store.Replicas.Find("replica")!.Id).Single(f => f.PrimaryName == "INBOX");
        Assert.That(inbox.PrimaryMessages, Is.EqualTo(5u), "the delete guard keeps its measure of the folder");

        withheld.Clear();
        await h.SyncAsync();
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty, "the next sync, with nothing changed on either side since, finds them");
    }
}

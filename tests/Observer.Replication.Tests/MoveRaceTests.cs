using NUnit.Framework;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

/// <summary>Folders are synced in parallel: one folder's sync may move a replica copy out from under another's.</summary>
public class MoveRaceTests
{
    [Test]
    public async Task ReplicaCopyOfAnExpungedMessage_MovedAwayByAnotherFoldersSync_DoesNotBreakThePass()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "A", 5);
        await MailFactory.FillAsync(primary, "B", 2);
        await h.SyncAsync();

        await primary.SelectAsync("A");
        await primary.UidMoveAsync(UidSet.FromUids([1]), "B");
        // What B's sync does while A's is under way: it marks A's copy as expunged and moves it on the replica.
        var replicaId = h.Store.Replicas.Find("replica")!.Id;
        var folderA = h.Store.Folders.Find(replicaId, "A")!;
        var replicaUid = h.Store.Messages.ForFolder(folderA.Id)[1].ReplicaUid;
        h.Store.Messages.MarkVanished(folderA.Id, [1]);
        await using (var replica = await h.Accounts.ReplicaClientAsync())
        {
            await replica.SelectAsync("A");
            await replica.UidMoveAsync(UidSet.FromUids([replicaUid]), "B");
        }

        var pass = await h.SyncAsync();

        Assert.That(pass.Converged, Is.True, h.Log.AllText);
        var primarySnapshot = await h.Accounts.PrimarySnapshotAsync();
        var replicaSnapshot = await h.Accounts.ReplicaSnapshotAsync();
        Assert.That(primarySnapshot.Differences(replicaSnapshot), Is.Empty);
        Assert.That(replicaSnapshot.DuplicatesAgainst(primarySnapshot), Is.Zero);
    }
}

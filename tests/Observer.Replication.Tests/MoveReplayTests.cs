using System.Text;
using NUnit.Framework;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

/// <summary>Moves on the primary are replayed as moves on the replica, and many at once cost few commands.</summary>
public class MoveReplayTests
{
    [Test]
    public async Task ThirtyMessagesMovedAtOnce_AreMovedOnTheReplica_WithAFewSelectsOfTheirOldFolder_NotOnePerMessage()
    {
        await using var h = await EngineHarness.CreateAsync(o => o.MoveMinimumBytes = 0);
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "A", 200);
        await MailFactory.FillAsync(primary, "B", 1, prefix: "b");
        // 30 of 200 moved away: within what the delete guard lets through unasked.
        Assert.That((await h.SyncAsync()).Converged, Is.True);

        await primary.SelectAsync("A");
        await primary.UidMoveAsync(UidSet.Range(1, 20), "B");
        // A moved message whose flags changed on the way needs the destination selected in between.
        await primary.UidStoreAsync(UidSet.Single(25), StoreMode.Add, new MessageFlags(["\\Flagged"]));
        await primary.UidMoveAsync(UidSet.Range(21, 30), "B");
        h.Replica.Selects.Clear();

        var pass = await h.SyncAsync();

        Assert.That(pass.Converged, Is.True, h.Log.AllText);
        var primarySnapshot = await h.Accounts.PrimarySnapshotAsync();
        var replicaSnapshot = await h.Accounts.ReplicaSnapshotAsync();
        Assert.That(primarySnapshot.Differences(replicaSnapshot), Is.Empty, "flags included");
        Assert.That(replicaSnapshot.DuplicatesAgainst(primarySnapshot), Is.Zero);
        Assert.That(h.Replica.Moves, Is.EqualTo(30), "every message moved, none uploaded again");
        Assert.That(h.Replica.Appended, Is.EqualTo(201), "only the first sync's uploads");
        var selects = h.Replica.Selects;
        Assert.That(selects.GetValueOrDefault("A"), Is.InRange(1, 4), $"SELECTs by folder: {string.Join(", ", selects.Select(p => $"{p.Key} {p.Value}"))}");
        Assert.That(selects.GetValueOrDefault("B"), Is.InRange(1, 5), $"SELECTs by folder: {string.Join(", ", selects.Select(p => $"{p.Key} {p.Value}"))}");
    }

    [Test]
    public async Task SmallMessagesMovedAmongNewMail_AreUploadedAgain_AndTheirOldCopiesExpunged_WhileALargeOneIsMoved()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "A", 40);
        var lines = string.Concat(Enumerable.Repeat(new string('x', 76) + "\r\n", (int)(h.Options.MoveMinimumBytes / 78) + 10));
        var large = Encoding.UTF8.GetBytes(MailFactory.Text("large", body: lines));
        await primary.AppendAsync("A", new AppendMessage(ImapLiteral.FromBytes(large), new MessageFlags([MessageFlags.Seen]), null));
        await MailFactory.FillAsync(primary, "B", 2, prefix: "b");
        Assert.That((await h.SyncAsync()).Converged, Is.True);
        var uploaded = h.Replica.Appended;

        // One at a time, with new mail in between, as a user files messages while mail arrives.
        await primary.SelectAsync("A");
        foreach (var uid in new uint[] { 3, 7, 12, 41 })
        {
            await primary.UidMoveAsync(UidSet.Single(uid), "B");
            await primary.AppendAsync("B", MailFactory.Message($"new after {uid}"));
        }

        var pass = await h.SyncAsync();

        Assert.That(pass.Converged, Is.True, h.Log.AllText);
        var primarySnapshot = await h.Accounts.PrimarySnapshotAsync();
        var replicaSnapshot = await h.Accounts.ReplicaSnapshotAsync();
        Assert.That(primarySnapshot.Differences(replicaSnapshot), Is.Empty, "flags included");
        Assert.That(replicaSnapshot.DuplicatesAgainst(primarySnapshot), Is.Zero, "no old copy left behind");
        Assert.That(h.Replica.Moves, Is.EqualTo(1), "only the large message is moved");
        Assert.That(h.Replica.Appended - uploaded, Is.EqualTo(3 + 4), "the three small ones uploaded again with the four new messages");
    }
}

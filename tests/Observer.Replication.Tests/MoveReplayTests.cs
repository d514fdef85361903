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
        await using var h = await EngineHarness.CreateAsync();
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
}

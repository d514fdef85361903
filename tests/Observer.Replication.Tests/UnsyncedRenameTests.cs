using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

/// <summary>
/// Folders created on the replica whose first sync never completed (a connection cut in between) know no
/// UIDVALIDITY yet. Renamed on the primary meanwhile, several at once, they must be replayed as renames,
/// not taken for a mass deletion and held (seen in the random-cuts test: five folders held, never converged).
/// </summary>
public class UnsyncedRenameTests
{
    [Test]
    public async Task FoldersRenamedBeforeTheirFirstSyncCompleted_AreRenamedOnTheReplica_NotHeldAsDeleted()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using var primary = await h.Accounts.PrimaryClientAsync();
        var young = new[] { "A", "B", "C" };
        foreach (var folder in young) await MailFactory.FillAsync(primary, folder, 2);
        Assert.That((await h.SyncAsync()).Converged, Is.True);

        // As a cut leaves them: records without checkpoints or messages, their replica folders there.
        var replicaId = h.Store.Replicas.Find("replica")!.Id;
        foreach (var folder in young)
        {
            var record = h.Store.Folders.Find(replicaId, folder)!;
            h.Store.Folders.ResetCheckpoint(record.Id);
            h.Store.Messages.Clear(record.Id);
        }
        foreach (var folder in young) await primary.RenameAsync(folder, folder + "-renamed");

        var pass = await h.SyncAsync();
        Assert.That(pass.TreeProblems, Is.Empty, "nothing held");
        Assert.That(h.Log.AllText, Does.Contain("folder A renamed to A-renamed"));
        Assert.That(h.Store.Holds.All(replicaId), Is.Empty);
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty);
    }
}

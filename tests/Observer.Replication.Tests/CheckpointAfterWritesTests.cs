using NUnit.Framework;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

/// <summary>
/// The checkpoint a sync leaves after writing to a replica folder. Where the replica has UNSELECT it is read by
/// STATUS instead of a second SELECT (which costs Dovecot 200 ms on a big Maildir folder just written to), and it must
/// still equal what the next pass's LIST-STATUS shows, or every pass would open the folder again.
/// </summary>
public class CheckpointAfterWritesTests
{
    private readonly Dictionary<ServerKind, ServerPair> _pairs = [];

    [OneTimeTearDown]
    public async Task StopPairsAsync()
    {
        foreach (var pair in _pairs.Values) await pair.DisposeAsync();
    }

    private async Task<ServerPair> PairWithReplicaAsync(ServerKind replica)
    {
        if (replica == ServerKind.Dovecot) return PairFixture.Pair;
        if (!_pairs.TryGetValue(replica, out var pair))
            _pairs[replica] = pair = await ServerPair.StartAsync(ServerKind.Dovecot, replica, "checkpoint");
        return pair;
    }

    // Not Courier: it has no UNSELECT, so the folder is selected again, as every test with a Courier replica does;
    // and without mod-sequences a pass opens each folder to compare it, so "left alone" cannot hold there.
    [TestCase(ServerKind.Dovecot)]
    [TestCase(ServerKind.Cyrus)]
    public async Task AFolderWrittenTo_IsLeftAlone_ByTheNextPass(ServerKind replicaKind)
    {
        await using var h = await EngineHarness.CreateAsync(pair: await PairWithReplicaAsync(replicaKind));
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "A", 6);
        await h.SyncAsync();
        // New mail, a flag and an expunge: every kind of write the sync makes to the replica folder.
        await MailFactory.FillAsync(primary, "A", 2);
        await primary.SelectAsync("A");
        await primary.UidStoreAsync(UidSet.FromUids([1]), StoreMode.Add, new MessageFlags([MessageFlags.Flagged]), silent: true);
        await primary.UidStoreAsync(UidSet.FromUids([2]), StoreMode.Add, new MessageFlags([MessageFlags.Deleted]), silent: true);
        await primary.UidExpungeAsync(UidSet.FromUids([2]));
        h.Replica.Selects.Clear();

        var writing = await h.SyncAsync();
        var replicaName = h.Store.Folders.Find(h.Store.Replicas.Find("replica")!.Id, "A")!.ReplicaName;
        var selectsWhileWriting = h.Replica.Selects.GetValueOrDefault(replicaName);
        h.Replica.Selects.Clear();
        h.Sessions.Primary.Selects.Clear();
        var next = await h.SyncAsync();

        Assert.That(writing.Converged, Is.True, h.Log.AllText);
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty, h.Log.AllText);
        Assert.That(selectsWhileWriting, Is.EqualTo(1), "replica SELECTs of A in the pass that wrote to it: its state after the writes should be read by STATUS");
        Assert.That(next.Folders.Single(f => f.Folder == "A").Outcome, Is.EqualTo(FolderOutcome.Unchanged));
        Assert.That(h.Replica.Selects.GetValueOrDefault(replicaName) + h.Sessions.Primary.Selects.GetValueOrDefault("A"), Is.Zero,
            "the next pass should find A as its checkpoint left it, by LIST-STATUS alone");
    }
}

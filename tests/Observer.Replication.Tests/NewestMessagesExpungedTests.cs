using NUnit.Framework;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

/// <summary>
/// Expunges of a folder's newest messages, read from QRESYNC's VANISHED (EARLIER). Cyrus reads "*" in
/// <c>UID FETCH 1:* (CHANGEDSINCE n VANISHED)</c> as the highest UID the folder still holds, so it leaves
/// those expunges out of the answer to "1:*". The randomized Cyrus→Courier run found a copy left behind that way.
/// </summary>
public class NewestMessagesExpungedTests
{
    private static ServerPair? _cyrusPair;

    [OneTimeSetUp]
    public async Task StartCyrusAsync() => _cyrusPair = await ServerPair.StartAsync(ServerKind.Cyrus, ServerKind.Dovecot, "newest");

    [OneTimeTearDown]
    public async Task StopCyrusAsync()
    {
        if (_cyrusPair is not null) await _cyrusPair.DisposeAsync();
    }

    private static ServerPair PairFor(ServerKind primary) => primary == ServerKind.Cyrus ? _cyrusPair! : PairFixture.Pair;

    [TestCase(ServerKind.Cyrus)]
    [TestCase(ServerKind.Dovecot)]
    public async Task NewestMessageExpunged_BesideAnExpungeAlreadyNoted_LeavesNoCopyBehind(ServerKind primaryKind)
    {
        await using var h = await EngineHarness.CreateAsync(pair: PairFor(primaryKind));
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "A", 6);
        await h.SyncAsync();

        await primary.SelectAsync("A");
        await ExpungeAsync(primary, 2);
        // What a live watcher's first look leaves: the expunge it saw noted, the folder's checkpoint not yet moved on.
        var folder = h.Store.Folders.Find(h.Store.Replicas.Find("replica")!.Id, "A")!;
        h.Store.Messages.MarkVanished(folder.Id, [2]);
        // The user's next change, before the folder's own sync: the newest message goes. Counted twice, the expunge
        // already noted would make up for this one in the count that is there to catch what VANISHED leaves out.
        await ExpungeAsync(primary, 6);

        var pass = await h.SyncAsync();

        Assert.That(pass.Converged, Is.True, h.Log.AllText);
        var primarySnapshot = await h.Accounts.PrimarySnapshotAsync();
        var replicaSnapshot = await h.Accounts.ReplicaSnapshotAsync();
        Assert.That(primarySnapshot.Differences(replicaSnapshot), Is.Empty, h.Log.AllText);
        Assert.That(replicaSnapshot.DuplicatesAgainst(primarySnapshot), Is.Zero);
    }

    [TestCase(ServerKind.Cyrus)]
    [TestCase(ServerKind.Dovecot)]
    public async Task NewestMessageExpunged_IsReadFromVanished_WithoutListingEveryUid(ServerKind primaryKind)
    {
        await using var h = await EngineHarness.CreateAsync(pair: PairFor(primaryKind));
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "A", 6);
        await h.SyncAsync();
        await primary.SelectAsync("A");
        await ExpungeAsync(primary, 6);
        h.Sessions.Primary.Searches = 0;

        var pass = await h.SyncAsync();

        Assert.That(pass.Converged, Is.True, h.Log.AllText);
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty, h.Log.AllText);
        Assert.That(h.Sessions.Primary.Searches, Is.Zero, "the expunge should have come in VANISHED (EARLIER), with no SEARCH ALL to find it");
    }

    private static async Task ExpungeAsync(UserImapClient client, params uint[] uids)
    {
        await client.UidStoreAsync(UidSet.FromUids(uids), StoreMode.Add, new MessageFlags([MessageFlags.Deleted]), silent: true);
        await client.UidExpungeAsync(UidSet.FromUids(uids));
    }
}

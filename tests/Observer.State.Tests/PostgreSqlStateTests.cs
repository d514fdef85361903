using NUnit.Framework;
using Observer.State.Databases;
using Observer.TestSupport;

namespace Observer.State.Tests;

/// <summary>
/// The state on a real PostgreSQL (testservers/postgresql, on loopback): its schema, its errors, and the leases and
/// fencing that let several workers share it. The engine's own tests also run on it (OBSERVER_TEST_STATE=postgresql).
/// </summary>
public class PostgreSqlStateTests
{
    private PostgreSqlServer _server = null!;
    private string _database = "";

    [OneTimeSetUp]
    public async Task StartServer() => _server = await PostgreSqlServer.StartAsync("state-tests");

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [SetUp]
    public async Task NewDatabase() => _database = await _server.CreateDatabaseAsync("state");

    private StateLocation Location(string? password = null) =>
        new(StateProvider.PostgreSql, "", StateLocation.WithPassword(_server.ConnectionString(_database), password ?? _server.PasswordValue));

    private StateStore Open() => StateStore.Open(Location());

    private sealed class Fence(string worker) : ILeaseFence
    {
        public Dictionary<string, long> Tokens { get; } = [];
        public string Worker => worker;
        public long? TokenOf(string account) => Tokens.TryGetValue(account, out var t) ? t : null;
    }

    private static JournalEntry Append(long replicaId) => new() { ReplicaId = replicaId, Folder = "INBOX", Operation = "append", PrimaryUid = 1, Md5 = [1, 2, 3] };

    [Test]
    public async Task Open_CreatesTheSchema_AtTheVersionSqliteHas()
    {
        using (var store = Open()) store.WaitUntilOpen();
        Assert.That(Convert.ToInt32(await _server.ScalarAsync(_database, "SELECT version FROM observer_schema")), Is.EqualTo(SchemaMigrator.LatestVersion));
        Assert.That(PostgreSqlSchema.LatestVersion, Is.EqualTo(SchemaMigrator.LatestVersion));
    }

    [Test]
    public void EveryMigrationAfterThePostgreSqlBase_HasAPostgreSqlTwin()
    {
        var postgres = PostgreSqlSchema.Migrations().Select(m => m.Version).Order().ToList();
        var sqlite = Directory.GetFiles(Path.Combine(RepoPaths.Root, "src", "Observer.State", "Migrations"), "*.sql")
            .Select(f => int.Parse(Path.GetFileName(f)[..4])).Where(v => v > postgres[0]).ToList();
        Assert.That(postgres.Skip(1), Is.EquivalentTo(sqlite), "a SQLite migration needs its PostgreSqlMigrations/ twin, so both stay at one schema version");
    }

    [Test]
    public async Task WorkersStartingTogether_MigrateOnce_AndAllOpen()
    {
        var stores = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            var store = Open();
            store.WaitUntilOpen();
            return store;
        })));
        foreach (var store in stores) store.Dispose();
        Assert.That(Convert.ToInt32(await _server.ScalarAsync(_database, "SELECT COUNT(*) FROM observer_schema")), Is.EqualTo(1));
    }

    [Test]
    public async Task ASchemaNewerThanThisObserver_IsRefused_InOneLine()
    {
        using (var store = Open()) store.WaitUntilOpen();
        await _server.ScalarAsync(_database, "UPDATE observer_schema SET version = 99");
        using var again = Open();
        var ex = Assert.Throws<StateException>(again.WaitUntilOpen);
        Assert.That(ex!.Message, Does.Contain("newer than this observer understands").And.Contain(_database).And.Not.Contain(_server.PasswordValue));
    }

    [Test]
    public void AWrongPassword_IsAStateError_NamingTheDatabase_NotThePassword()
    {
        var ex = Assert.Throws<StateException>(() => StateStore.Open(Location("not-the-password")));
        Assert.That(ex!.Message, Does.Contain(_database).And.Contain("State:ConnectionString").And.Not.Contain("not-the-password"));
    }

    [Test]
    public void ReadingADatabaseNeverSetUp_SaysToRunObserverFirst()
    {
        var ex = Assert.Throws<StateException>(() => StateStore.OpenReadOnly(Location()));
        Assert.That(ex!.Message, Does.Contain("run observer sync or observer run once"));
    }

    [Test]
    public async Task AConnectionLost_IsUnavailable_AndTheNextStatementConnectsAgain()
    {
        using var store = Open();
        var replica = store.Replicas.Ensure("r", "p", "r").Replica;
        await _server.RestartAsync();
        // The first statement meets the connection the restart cut; it is retried by the caller, never taken for a bug.
        Assert.Throws<StateUnavailableException>(() => store.Folders.All(replica.Id));
        Assert.That(store.Replicas.Find("r"), Is.Not.Null);
    }

    [Test]
    public void MessagesReplaced_AsOnSqlite_TakeTheirHeldFlagsWithThem()
    {
        using var store = Open();
        var replica = store.Replicas.Ensure("r", "p", "r").Replica;
        var folder = store.Folders.Add(replica.Id, "INBOX", "INBOX");
        var row = new MessageRecord { FolderId = folder.Id, PrimaryUid = 7, ReplicaUid = 9, Md5 = [1], Size = 10, Flags = "\\Seen" };
        store.Messages.Put([row]);
        store.Messages.MarkVanished(folder.Id, [7]);
        store.HeldFlags.Save(folder.Id, [(7u, "\\Deleted", DateTimeOffset.UtcNow)], []);
        store.Messages.Put([row with { ReplicaUid = 10 }]);
        var again = store.Messages.ForFolder(folder.Id)[7];
        Assert.That((again.ReplicaUid, again.VanishedAt), Is.EqualTo((10u, (DateTimeOffset?)null)));
        Assert.That(store.HeldFlags.Oldest(replica.Id), Is.Empty);
    }

    [Test]
    public void MessagesReadFromAUid_AsOnSqlite_AreThoseFromIt_AndTheExpungedBelowIt()
    {
        using var store = Open();
        var replica = store.Replicas.Ensure("r", "p", "r").Replica;
        var folder = store.Folders.Add(replica.Id, "A", "A");
        var other = store.Folders.Add(replica.Id, "B", "B");
        store.Messages.Put(Enumerable.Range(1, 6).SelectMany(uid => new[] { folder, other }.Select(f =>
            new MessageRecord { FolderId = f.Id, PrimaryUid = (uint)uid, ReplicaUid = (uint)uid + 10, Md5 = [(byte)uid], Size = uid, Flags = "" })));
        store.Messages.MarkVanished(folder.Id, [2, 5]);
        store.Messages.MarkVanished(other.Id, [1]);

        var read = store.Messages.ForFolderFrom(folder.Id, 4);

        Assert.That(read.Select(r => (r.FolderId, r.PrimaryUid, r.VanishedAt is null)).OrderBy(r => r.PrimaryUid),
            Is.EqualTo(new[] { (folder.Id, 2u, false), (folder.Id, 4u, true), (folder.Id, 5u, false), (folder.Id, 6u, true) }));
    }

    [Test]
    public void Claim_GivesEachAccountToOneWorker_EvenWhenTheyClaimAtOnce()
    {
        var accounts = Enumerable.Range(0, 60).Select(i => $"a{i:00}").ToList();
        using var a = Open();
        using var b = Open();
        a.Leases.Offer(accounts);
        var claims = Task.WhenAll(
            Task.Run(() => a.Leases.Claim("A", accounts, 40, TimeSpan.FromSeconds(30))),
            Task.Run(() => b.Leases.Claim("B", accounts, 40, TimeSpan.FromSeconds(30)))).Result;
        Assert.That(claims[0].Keys.Intersect(claims[1].Keys), Is.Empty);
        Assert.That(claims[0].Count + claims[1].Count, Is.EqualTo(60));
        Assert.That(a.Leases.All().Select(l => l.Owner), Has.All.Not.Null);
    }

    [Test]
    public async Task AnExpiredLease_IsClaimedAgain_UnderANewToken_AndRenewKeepsOnlyWhatIsStillOwned()
    {
        using var a = Open();
        using var b = Open();
        a.Leases.Offer(["x", "y"]);
        var first = a.Leases.Claim("A", ["x", "y"], 2, TimeSpan.FromSeconds(30));
        Assert.That(b.Leases.Claim("B", ["x", "y"], 2, TimeSpan.FromSeconds(30)), Is.Empty, "a live lease is not claimed");
        await _server.ScalarAsync(_database, "UPDATE leases SET expires_at = now() - interval '1 second' WHERE account = 'x'");
        var second = b.Leases.Claim("B", ["x", "y"], 2, TimeSpan.FromSeconds(30));
        Assert.That(second.Keys, Is.EquivalentTo(new[] { "x" }));
        Assert.That(second["x"], Is.GreaterThan(first["x"]));
        Assert.That(a.Leases.Renew("A", "host", 1, TimeSpan.FromSeconds(30), first).Keys, Is.EquivalentTo(new[] { "y" }));
        // Another process under the same name, with tokens it never claimed, renews nothing.
        Assert.That(a.Leases.Renew("A", "host", 2, TimeSpan.FromSeconds(30), new Dictionary<string, long> { ["y"] = first["y"] + 1 }), Is.Empty);
    }

    [Test]
    public async Task AJournalWrite_UnderALeaseClaimedAgainSince_IsRefused_AndLeavesNoRow()
    {
        using var a = Open();
        using var b = Open();
        var replica = a.Replicas.Ensure("r", "p", "r", account: "alice").Replica;
        var fenceA = new Fence("A");
        a.Fence = fenceA;
        a.Leases.Offer(["alice"]);
        fenceA.Tokens["alice"] = a.Leases.Claim("A", ["alice"], 1, TimeSpan.FromSeconds(30))["alice"];
        var begun = a.Journal.Begin(Append(replica.Id));
        Assert.That(Convert.ToInt64(await _server.ScalarAsync(_database, $"SELECT lease_token FROM journal WHERE id = {begun}")), Is.EqualTo(fenceA.Tokens["alice"]));

        // A was paused past its lease; B took the account.
        await _server.ScalarAsync(_database, "UPDATE leases SET expires_at = now() - interval '1 second'");
        b.Leases.Claim("B", ["alice"], 1, TimeSpan.FromSeconds(30));
        var ex = Assert.Throws<LeaseLostException>(() => a.Journal.Begin(Append(replica.Id)));
        Assert.That(ex!.Message, Does.Contain("alice").And.Contain("owned by B"));
        Assert.Throws<LeaseLostException>(() => a.Journal.Complete([begun]));
        Assert.That(Convert.ToInt64(await _server.ScalarAsync(_database, "SELECT COUNT(*) FROM journal")), Is.EqualTo(1), "nothing recorded under the old token");
        Assert.That(a.Journal.Open(replica.Id).Single().Id, Is.EqualTo(begun), "the write A began stays open, for B's recovery to settle");
    }

    [Test]
    public async Task AJournalWrite_AfterTheLeaseExpired_IsRefused_EvenWhenNobodyClaimedIt()
    {
        using var a = Open();
        var replica = a.Replicas.Ensure("r", "p", "r", account: "bob").Replica;
        var fence = new Fence("A");
        a.Fence = fence;
        a.Leases.Offer(["bob"]);
        fence.Tokens["bob"] = a.Leases.Claim("A", ["bob"], 1, TimeSpan.FromSeconds(30))["bob"];
        await _server.ScalarAsync(_database, "UPDATE leases SET expires_at = now() - interval '1 second'");
        Assert.That(Assert.Throws<LeaseLostException>(() => a.Journal.Begin(Append(replica.Id)))!.Message, Does.Contain("expired"));
        // Renewed before anyone else claimed it: the same token, and writing goes on.
        Assert.That(a.Leases.Renew("A", "host", 1, TimeSpan.FromSeconds(30), fence.Tokens)["bob"], Is.EqualTo(fence.Tokens["bob"]));
        Assert.DoesNotThrow(() => a.Journal.Begin(Append(replica.Id)));
    }

    [Test]
    public void WorkersShareTheLock_AOneShotCommandNeedsItAlone()
    {
        using (var store = Open()) store.WaitUntilOpen();
        using (var worker1 = SharedStateLock.TryTake(Location(), exclusive: false))
        using (var worker2 = SharedStateLock.TryTake(Location(), exclusive: false))
        {
            Assert.That(worker1, Is.Not.Null);
            Assert.That(worker2, Is.Not.Null);
            Assert.That(SharedStateLock.TryTake(Location(), exclusive: true), Is.Null, "a sync beside running workers");
        }
        using (var alone = SharedStateLock.TryTake(Location(), exclusive: true))
        {
            Assert.That(alone, Is.Not.Null);
            Assert.That(SharedStateLock.TryTake(Location(), exclusive: false), Is.Null, "a worker beside a sync");
        }
        // A worker whose lock went with a restart of the database still renews: a sync is refused all the same.
        using var worker = Open();
        worker.Leases.Join("w", "h", 1, TimeSpan.FromSeconds(30));
        Assert.That(SharedStateLock.TryTake(Location(), exclusive: true), Is.Null);
    }

    [Test]
    public async Task TwoLiveWorkersUnderOneName_AreRefused_AndTheNameIsFreeOnceTheFirstStoppedRenewing()
    {
        using var store = Open();
        store.Leases.Join("backup-1", "box-a", 100, TimeSpan.FromSeconds(30));
        var ex = Assert.Throws<StateException>(() => store.Leases.Join("backup-1", "box-b", 200, TimeSpan.FromSeconds(30)));
        Assert.That(ex!.Message, Does.Contain("another worker named backup-1 is running (pid 100 on box-a)").And.Contain("State:WorkerName"));
        Assert.DoesNotThrow(() => store.Leases.Join("backup-1", "box-a", 100, TimeSpan.FromSeconds(30)), "the same process joining again");
        await _server.ScalarAsync(_database, "UPDATE workers SET expires_at = now() - interval '1 second'");
        Assert.DoesNotThrow(() => store.Leases.Join("backup-1", "box-b", 200, TimeSpan.FromSeconds(30)), "the first one is gone");
    }

    [TestCase("Host=db.example.com;Username=o", Npgsql.SslMode.VerifyFull)]
    [TestCase("Host=db.example.com;Username=o;SSL Mode=Require", Npgsql.SslMode.Require)]
    [TestCase("Host=db.example.com;Username=o;SslMode=Disable", Npgsql.SslMode.Disable)]
    [TestCase("Host=127.0.0.1;Username=o", Npgsql.SslMode.Prefer)]
    [TestCase("Host=/var/run/postgresql;Username=o", Npgsql.SslMode.Prefer)]
    [TestCase("Host=localhost,db.example.com;Username=o", Npgsql.SslMode.VerifyFull)]
    public void ACertificateIsVerified_OffThisBox_UnlessTheSettingsSayOtherwise(string connectionString, Npgsql.SslMode expected)
    {
        Assert.That(PostgreSqlStateDatabase.Settings(connectionString).SslMode, Is.EqualTo(expected));
    }

    [Test]
    public void FolderRenames_FailoversAndDrains_RunOnPostgreSql_AsOnSqlite()
    {
        // The paths the engine's tests on PostgreSQL rarely reach: renames that carry troubles and holds, and failover records.
        using var store = Open();
        var replica = store.Replicas.Ensure("r", "p", "r", account: "alice").Replica;
        store.Troubles.Record(replica.Id, "Work", "sync", "refused", DateTimeOffset.UtcNow);
        store.Troubles.Record(replica.Id, "Work.2026", "sync", "refused", DateTimeOffset.UtcNow);
        store.Troubles.Record(replica.Id, "Projects.2026", "sync", "an older one, replaced by the rename", DateTimeOffset.UtcNow);
        store.Holds.Put(replica.Id, "Work", HoldKind.Messages, 30, "30 of 40");
        store.Holds.Put(replica.Id, "Projects", HoldKind.Messages, 5, "in the way");
        store.Journal.Begin(new JournalEntry { ReplicaId = replica.Id, Folder = "Work.2026", Operation = "append", PrimaryUid = 1, Md5 = [1] });
        store.InTransaction(() =>
        {
            store.Troubles.Rename(replica.Id, "Work", "Projects", '.');
            store.Holds.Rename(replica.Id, "Work", "Projects", '.');
            store.Journal.Rename(replica.Id, "Work", "Projects", '.');
        });
        Assert.That(store.Troubles.All(replica.Id).Select(t => (t.Folder, t.Error)),
            Is.EquivalentTo(new[] { ("Projects", "refused"), ("Projects.2026", "refused") }));
        Assert.That(store.Holds.All(replica.Id).Select(h => (h.Folder, h.Count)), Is.EquivalentTo(new[] { ("Projects", 30) }));
        Assert.That(store.Journal.Open(replica.Id).Single().Folder, Is.EqualTo("Projects.2026"));

        var check = store.Failovers.AddCheck("alice", "east", "east", "primary");
        var later = DateTimeOffset.UtcNow;
        store.Failovers.AddCopy(check.Failover.Id, new FailoverCopy("primary", "INBOX", [2], null, "a@example.org", "second", 20, later.AddSeconds(1)));
        store.Failovers.AddCopy(check.Failover.Id, new FailoverCopy("primary", "INBOX", [1], later, "a@example.org", "first", 10, later));
        Assert.That(store.Failovers.Copies(check.Failover.Id).Select(c => c.Subject), Is.EqualTo(new[] { "first", "second" }));
        store.Failovers.MarkReconciled(check.Failover.Id, "east");
        store.Failovers.RecordDrain(new DrainRecord("alice", "east", later, true, "identical"));
        store.Failovers.RecordDrain(new DrainRecord("alice", "east", later, false, "again"));
        Assert.That(store.Failovers.Drains().Single().Detail, Is.EqualTo("again"));
    }
}

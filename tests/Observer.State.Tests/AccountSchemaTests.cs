using Microsoft.Data.Sqlite;
using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.State.Tests;

/// <summary>Schema 5: every account's replicas in one database, and a database of schema 4 carried over whole.</summary>
public class AccountSchemaTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-state-accounts-").FullName;

    [TearDown]
    public void TearDown()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private string DbPath => Path.Combine(_dir, "state.db");

    /// <summary>A database as the last observer before accounts left it: schema 4, with a replica, a folder, a message and a journal entry.</summary>
    private void WriteSchemaFour()
    {
        using var connection = new SqliteConnection($"Data Source={DbPath};Pooling=false");
        connection.Open();
        var migrations = Path.Combine(RepoPaths.Root, "src", "Observer.State", "Migrations");
        var sql = string.Concat(Directory.GetFiles(migrations, "000?_*.sql").Order().Where(f => string.CompareOrdinal(Path.GetFileName(f), "0005") < 0).Select(File.ReadAllText));
        using var command = connection.CreateCommand();
        command.CommandText = sql + """
            PRAGMA user_version = 4;
            INSERT INTO replicas (id, name, primary_endpoint, replica_endpoint, created_at) VALUES (7, 'default', 'u@p:143', 'u@r:143', '2026-01-01T00:00:00Z');
            INSERT INTO folders (id, replica_id, primary_name, replica_name) VALUES (3, 7, 'INBOX', 'INBOX');
            INSERT INTO messages (folder_id, primary_uid, replica_uid, md5, size, flags) VALUES (3, 1, 1, x'00', 10, '');
            INSERT INTO journal (replica_id, folder, operation, begun_at) VALUES (7, 'INBOX', 'append', '2026-01-01T00:00:00Z');
            """;
        command.ExecuteNonQuery();
    }

    [Test]
    public void SchemaFour_IsCarriedOver_AsTheSingleAccount_WithEveryRowThatHangsOffIt()
    {
        WriteSchemaFour();
        using var store = StateStore.Open(DbPath);
        store.WaitUntilOpen();
        // Schema 6 renames the single replica from "default" to "replica", the name a Replicas list gives it.
        var replica = store.Replicas.Find("replica");
        Assert.That(replica, Is.EqualTo(new ReplicaRecord(7, "", "replica", "mirror", 0, "u@p:143", "u@r:143")));
        var inbox = store.Folders.Find(7, "INBOX")!;
        Assert.That(store.Messages.Count(inbox.Id), Is.EqualTo(1), "rebuilding the replicas table did not cascade into its folders' messages");
        Assert.That(store.Journal.OpenCount(7), Is.EqualTo(1));

        // The foreign keys point at the rebuilt table and are enforced again.
        store.Folders.Remove(inbox.Id);
        Assert.That(store.Messages.Count(inbox.Id), Is.Zero);
        var ex = Assert.Throws<SqliteException>(() => store.Folders.Add(999, "Orphan", "Orphan"));
        Assert.That(ex!.Message, Does.Contain("FOREIGN KEY"));
    }

    [Test]
    public void EachAccount_HasItsOwnReplica_UnderTheSameName()
    {
        using var store = StateStore.Open(DbPath);
        var single = store.Replicas.Ensure("replica", "p", "r").Replica;
        var alice = store.Replicas.Ensure("replica", "alice@p", "alice@r", "alice").Replica;
        var bob = store.Replicas.Ensure("replica", "bob@p", "bob@r", "bob").Replica;
        Assert.That(new[] { single.Id, alice.Id, bob.Id }.Distinct().Count(), Is.EqualTo(3));
        Assert.That(store.Replicas.Find("replica", "alice"), Is.EqualTo(alice));
        Assert.That(store.Replicas.Find("replica", "carol"), Is.Null);
        Assert.That(store.Replicas.Ensure("replica", "alice@p", "alice@r", "alice"), Is.EqualTo((alice, false)), "found again, not added");
        Assert.That(store.Replicas.All().Select(r => r.Account), Is.EqualTo(new[] { "", "alice", "bob" }));

        store.Folders.Add(alice.Id, "INBOX", "INBOX");
        Assert.That((store.Folders.All(alice.Id).Count, store.Folders.All(bob.Id).Count), Is.EqualTo((1, 0)));
    }
}

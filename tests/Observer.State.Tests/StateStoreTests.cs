using Microsoft.Data.Sqlite;
using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.State.Tests;

public class StateStoreTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-state-").FullName;

    [TearDown]
    public void TearDown()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private string DbPath => Path.Combine(_dir, "sub", "state.db");

    [Test]
    public void Open_CreatesDatabaseAndWalReadableOnlyByOwner()
    {
        using (var store = StateStore.Open(DbPath))
        {
            var replica = store.Replicas.Ensure("replica", "p", "r").Replica;
            store.Folders.Add(replica.Id, "INBOX", "INBOX");
            foreach (var file in new[] { DbPath, DbPath + "-wal" })
                Assert.That(File.GetUnixFileMode(file), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite), file);
        }
        Assert.That(File.GetUnixFileMode(Path.GetDirectoryName(DbPath)!) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead), Is.EqualTo(UnixFileMode.None));
    }

    [Test]
    public void Open_ExistingLaxFile_IsTightened()
    {
        using (StateStore.Open(DbPath)) { }
        File.SetUnixFileMode(DbPath, (UnixFileMode)0b110_100_100);
        using (StateStore.Open(DbPath)) { }
        Assert.That(File.GetUnixFileMode(DbPath), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public void Open_Twice_KeepsDataAndSchema()
    {
        using (var store = StateStore.Open(DbPath))
            store.Replicas.Ensure("replica", "p", "r");
        using (var again = StateStore.Open(DbPath))
            Assert.That(again.Replicas.Find("replica"), Is.Not.Null);
    }

    [Test]
    public void Open_GarbageFile_IsAClearStateError()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(DbPath)!);
        File.WriteAllText(DbPath, new string('x', 5000));
        var ex = Assert.Throws<StateException>(() => StateStore.Open(DbPath));
        Assert.That(ex!.Message, Does.Contain(DbPath));
    }

    [Test]
    public void Open_DatabaseWithADamagedPage_IsACorruptStateError_AndNothingIsWrittenToIt()
    {
        using (var store = StateStore.Open(DbPath))
        {
            var replica = store.Replicas.Ensure("replica", "p", "r").Replica;
            var folder = store.Folders.Add(replica.Id, "INBOX", "INBOX");
            store.Messages.Put(Enumerable.Range(1, 3000).Select(i => new MessageRecord
            {
                FolderId = folder.Id, PrimaryUid = (uint)i, ReplicaUid = (uint)i, Md5 = new byte[16], Flags = "\\Seen", MessageId = $"<{i}@example.com>",
            }));
        }
        SqliteConnection.ClearAllPools();
        // A page in the middle of the file, past the schema: its b-tree header becomes nonsense.
        var bytes = File.ReadAllBytes(DbPath);
        var pageSize = (bytes[16] << 8) | bytes[17];
        var page = bytes.Length / pageSize / 2;
        Array.Fill(bytes, (byte)0xA5, page * pageSize, 64);
        File.WriteAllBytes(DbPath, bytes);

        var ex = Assert.Throws<StateException>(() =>
        {
            using var store = StateStore.Open(DbPath);
            store.Replicas.Ensure("replica", "p", "r");
        });
        Assert.That(ex!.Message, Does.Contain("is corrupt").And.Contain(DbPath).And.Contain("restore it from a backup"));
        Assert.That(File.ReadAllBytes(DbPath), Is.EqualTo(bytes), "a corrupt database is neither migrated nor written to");
        Assert.That(!File.Exists(DbPath + "-wal") || new FileInfo(DbPath + "-wal").Length == 0, "nothing waits in its log either");
    }

    [Test]
    public void Replicas_EndpointChange_IsReported()
    {
        using var store = StateStore.Open(DbPath);
        Assert.That(store.Replicas.Ensure("replica", "p1", "r1").EndpointsChanged, Is.False);
        Assert.That(store.Replicas.Ensure("replica", "p1", "r1").EndpointsChanged, Is.False);
        Assert.That(store.Replicas.Ensure("replica", "p2", "r1").EndpointsChanged, Is.True);
    }

    [Test]
    public void Folders_Rename_CarriesChildrenOnBothSides()
    {
        using var store = StateStore.Open(DbPath);
        var id = store.Replicas.Ensure("replica", "p", "r").Replica.Id;
        store.Folders.Add(id, "Work", "Work");
        store.Folders.Add(id, "Work.A", "Work/A");
        store.Folders.Add(id, "Workshop", "Workshop");
        store.Folders.Rename(id, "Work", "Jobs", '.', "Work", "Jobs", '/');
        var names = store.Folders.All(id).Select(f => (f.PrimaryName, f.ReplicaName)).ToList();
        Assert.That(names, Is.EquivalentTo(new[] { ("Jobs", "Jobs"), ("Jobs.A", "Jobs/A"), ("Workshop", "Workshop") }));
    }

    [Test]
    public void Checkpoint_DirtyMarkSurvivesIfNewerThanTheSync()
    {
        var clock = new ManualTimeProvider();
        using var store = StateStore.Open(DbPath, clock);
        var id = store.Replicas.Ensure("replica", "p", "r").Replica.Id;
        var folder = store.Folders.Add(id, "INBOX", "INBOX");
        store.Folders.MarkDirty(id, "INBOX", clock.GetUtcNow());
        var syncStarted = clock.GetUtcNow().AddSeconds(1);
        store.Folders.SaveCheckpoint(folder with { PrimaryUidNext = 5 }, syncStarted);
        Assert.That(store.Folders.Get(folder.Id)!.DirtySince, Is.Null, "the change was covered by the sync");

        store.Folders.MarkDirty(id, "INBOX", syncStarted.AddSeconds(1));
        store.Folders.SaveCheckpoint(folder with { PrimaryUidNext = 6 }, syncStarted);
        Assert.That(store.Folders.Get(folder.Id)!.DirtySince, Is.Not.Null, "a change seen during the sync is still pending");
    }

    [Test]
    public void Journal_BeginCompleteAndOpen()
    {
        using var store = StateStore.Open(DbPath);
        var id = store.Replicas.Ensure("replica", "p", "r").Replica.Id;
        var ids = store.Journal.Begin([
            new JournalEntry { ReplicaId = id, Folder = "INBOX", Operation = "append", PrimaryUid = 1, Md5 = new byte[16] },
            new JournalEntry { ReplicaId = id, Folder = "INBOX", Operation = "append", PrimaryUid = 2, Md5 = new byte[16] },
        ]);
        store.Journal.Complete([ids[0]]);
        Assert.That(store.Journal.Open(id).Select(e => e.PrimaryUid), Is.EqualTo(new uint?[] { 2 }));
        store.Journal.Resolve(id, "INBOX");
        Assert.That(store.Journal.OpenCount(id), Is.Zero);
    }

    [Test]
    public void Journal_ResolvingAFoldersCopies_LeavesItsRenameIntentForTheTreeSync()
    {
        using var store = StateStore.Open(DbPath);
        var id = store.Replicas.Ensure("replica", "p", "r").Replica.Id;
        store.Journal.Begin([
            new JournalEntry { ReplicaId = id, Folder = "Old", Operation = "append", PrimaryUid = 1, Md5 = new byte[16] },
            new JournalEntry { ReplicaId = id, Folder = "Old", Operation = JournalRepository.FolderRename, Detail = "New\nOld\nNew" },
        ]);
        store.Journal.Resolve(id, "Old");
        Assert.That(store.Journal.Open(id).Select(e => e.Operation), Is.EqualTo(new[] { JournalRepository.FolderRename }));
    }

    [Test]
    public void Journal_OpenEntriesFollowARenamedFolderAndItsChildren()
    {
        using var store = StateStore.Open(DbPath);
        var id = store.Replicas.Ensure("replica", "p", "r").Replica.Id;
        var ids = store.Journal.Begin(new[] { "Work", "Work.Old", "Workshop", "Work" }
            .Select((f, i) => new JournalEntry { ReplicaId = id, Folder = f, Operation = "append", PrimaryUid = (uint)i + 1 }));
        store.Journal.Complete([ids[3]]);
        store.Journal.Rename(id, "Work", "Jobs", '.');
        Assert.That(store.Journal.Open(id).Select(e => e.Folder), Is.EquivalentTo(new[] { "Jobs", "Jobs.Old", "Workshop" }));
    }

    [Test]
    public void Journal_Prune_DropsOldFinishedEntries_KeepsRecentAndOpenOnes()
    {
        var clock = new ManualTimeProvider();
        using var store = StateStore.Open(DbPath, clock);
        var id = store.Replicas.Ensure("replica", "p", "r").Replica.Id;
        var other = store.Replicas.Ensure("other", "p", "r2").Replica.Id;
        JournalEntry Entry(long replica, uint uid) => new() { ReplicaId = replica, Folder = "INBOX", Operation = "append", PrimaryUid = uid };

        var old = store.Journal.Begin([Entry(id, 1), Entry(id, 2), Entry(id, 3), Entry(id, 4), Entry(other, 5)]);
        store.Journal.Complete([old[0], old[4]]);
        store.Journal.Abandon([old[1]]);
        clock.Advance(TimeSpan.FromDays(8));
        var recent = store.Journal.Begin([Entry(id, 6), Entry(id, 7)]);
        store.Journal.Complete([recent[0], old[2]]);

        Assert.That(store.Journal.Prune(id, TimeSpan.FromDays(7)), Is.EqualTo(2), "the done and the refused entry finished 8 days ago");
        var left = JournalRows();
        Assert.That(left, Is.EquivalentTo(new[]
        {
            (old[2], "done"), // begun long ago, but finished just now
            (old[3], "begun"), // open for 8 days: still the evidence crash recovery needs
            (old[4], "done"), // another replica's, pruned by its own engine
            (recent[0], "done"),
            (recent[1], "begun"),
        }));
    }

    [Test]
    public void Journal_Prune_UsesAnIndexRatherThanAScan()
    {
        using (StateStore.Open(DbPath)) { }
        using var connection = new SqliteConnection($"Data Source={DbPath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + JournalRepository.PruneSql;
        command.Parameters.AddWithValue("$r", 1L);
        command.Parameters.AddWithValue("$t", "2026-01-01");
        using var reader = command.ExecuteReader();
        var plan = new List<string>();
        while (reader.Read()) plan.Add(reader.GetString(3));
        Assert.That(plan, Has.Some.Contains("USING INDEX journal_finished"), string.Join("; ", plan));
    }

    private List<(long Id, string State)> JournalRows()
    {
        using var connection = new SqliteConnection($"Data Source={DbPath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, state FROM journal";
        using var reader = command.ExecuteReader();
        var rows = new List<(long, string)>();
        while (reader.Read()) rows.Add((reader.GetInt64(0), reader.GetString(1)));
        return rows;
    }

    [Test]
    public void InTransaction_FailureRollsBackEverything()
    {
        using var store = StateStore.Open(DbPath);
        var id = store.Replicas.Ensure("replica", "p", "r").Replica.Id;
        var folder = store.Folders.Add(id, "INBOX", "INBOX");
        Assert.Throws<InvalidOperationException>(() => store.InTransaction(() =>
        {
            store.Messages.Put([new MessageRecord { FolderId = folder.Id, PrimaryUid = 1, ReplicaUid = 1, Md5 = new byte[16], Flags = "" }]);
            throw new InvalidOperationException("crash before commit");
        }));
        Assert.That(store.Messages.Count(folder.Id), Is.Zero);
    }

    [Test]
    public void Messages_VanishedAreTheMovePool()
    {
        using var store = StateStore.Open(DbPath);
        var id = store.Replicas.Ensure("replica", "p", "r").Replica.Id;
        var folder = store.Folders.Add(id, "INBOX", "INBOX");
        var md5 = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();
        store.Messages.Put([new MessageRecord { FolderId = folder.Id, PrimaryUid = 7, ReplicaUid = 9, Md5 = md5, Size = 10, Flags = "\\Seen" }]);
        Assert.That(store.Messages.VanishedByMd5(id, md5), Is.Empty);
        store.Messages.MarkVanished(folder.Id, [7]);
        Assert.That(store.Messages.VanishedByMd5(id, md5).Single().ReplicaUid, Is.EqualTo(9));
        Assert.That(store.Messages.OldestVanished(id), Is.Not.Null);
    }

    [Test]
    public void Messages_ReadFromAUid_AreThoseFromIt_AndTheExpungedBelowIt_OfThatFolderOnly()
    {
        using var store = StateStore.Open(DbPath);
        var id = store.Replicas.Ensure("replica", "p", "r").Replica.Id;
        var folder = store.Folders.Add(id, "A", "A");
        var other = store.Folders.Add(id, "B", "B");
        store.Messages.Put(Enumerable.Range(1, 6).SelectMany(uid => new[] { folder, other }.Select(f =>
            new MessageRecord { FolderId = f.Id, PrimaryUid = (uint)uid, ReplicaUid = (uint)uid + 10, Md5 = [(byte)uid], Size = uid, Flags = "" })));
        store.Messages.MarkVanished(folder.Id, [2, 5]);
        store.Messages.MarkVanished(other.Id, [1]);

        var read = store.Messages.ForFolderFrom(folder.Id, 4);

        Assert.That(read.Select(r => (r.FolderId, r.PrimaryUid, r.ReplicaUid, r.VanishedAt is null)).OrderBy(r => r.PrimaryUid),
            Is.EqualTo(new[] { (folder.Id, 2u, 12u, false), (folder.Id, 4u, 14u, true), (folder.Id, 5u, 15u, false), (folder.Id, 6u, 16u, true) }));
    }

    [Test]
    public void Troubles_CountAttemptsAndKeepTheFirstTime()
    {
        using var store = StateStore.Open(DbPath);
        var id = store.Replicas.Ensure("replica", "p", "r").Replica.Id;
        var first = store.Troubles.Record(id, "Big", "error", "APPEND refused: [OVERQUOTA] Quota exceeded", DateTimeOffset.UtcNow);
        var second = store.Troubles.Record(id, "Big", "error", "APPEND refused: [OVERQUOTA] Quota exceeded", DateTimeOffset.UtcNow);
        Assert.That((second.Attempts, second.Since), Is.EqualTo((2, first.Since)));
        store.Troubles.Clear(id, "Big");
        Assert.That(store.Troubles.All(id), Is.Empty);
    }
}

using System.Data.Common;

namespace Observer.State;

public sealed class MessageRepository
{
    private const string Columns = "folder_id, primary_uid, replica_uid, md5, size, internal_date, flags, message_id, vanished_at";
    private const string InsertColumns = "folder_id, primary_uid, replica_uid, md5, size, internal_date, flags, message_id";

    private readonly StateStore _store;

    internal MessageRepository(StateStore store) => _store = store;

    public Dictionary<uint, MessageRecord> ForFolder(long folderId) =>
        _store.Query($"SELECT {Columns} FROM messages WHERE folder_id = @f", Read, ("@f", folderId)).ToDictionary(m => m.PrimaryUid);

    /// <summary>
    /// A folder's rows from <paramref name="fromUid"/> up, and its rows noted expunged below it: all that a copy of
    /// messages from that UID up can have written there, read by key and by the expunge index instead of the whole folder.
    /// </summary>
    public IReadOnlyList<MessageRecord> ForFolderFrom(long folderId, uint fromUid) =>
        _store.Query($"SELECT {Columns} FROM messages WHERE folder_id = @f AND primary_uid >= @u "
            + $"UNION ALL SELECT {Columns} FROM messages WHERE folder_id = @f AND primary_uid < @u AND vanished_at IS NOT NULL",
            Read, ("@f", folderId), ("@u", (long)fromUid));

    /// <summary>A folder's rows whose replica copy has a UID of <paramref name="fromReplicaUid"/> or above: those of copies made since then.</summary>
    public IReadOnlyList<MessageRecord> FromReplicaUid(long folderId, uint fromReplicaUid) =>
        _store.Query($"SELECT {Columns} FROM messages WHERE folder_id = @f AND replica_uid >= @u", Read, ("@f", folderId), ("@u", (long)fromReplicaUid));

    /// <summary>Messages per folder of one replica, in one query: status and every scrape read them for each folder.</summary>
    public Dictionary<long, int> CountByFolder(long replicaId) =>
        _store.Query("SELECT m.folder_id, COUNT(*) FROM messages m JOIN folders f ON f.id = m.folder_id WHERE f.replica_id = @r GROUP BY m.folder_id",
            r => (Folder: r.GetInt64(0), Count: r.Int(1)), ("@r", replicaId)).ToDictionary(c => c.Folder, c => c.Count);

    public int Count(long folderId) =>
        _store.Query("SELECT COUNT(*) FROM messages WHERE folder_id = @f", r => r.Int(0), ("@f", folderId)).Single();

    /// <summary>Copies on the replica whose primary message vanished, with this MD5: where a moved message already is.</summary>
    public IReadOnlyList<MessageRecord> VanishedByMd5(long replicaId, byte[] md5) =>
        _store.Query($"SELECT m.{Columns.Replace(", ", ", m.")} FROM messages m JOIN folders f ON f.id = m.folder_id "
            + "WHERE f.replica_id = @r AND m.md5 = @h AND m.vanished_at IS NOT NULL ORDER BY m.vanished_at",
            Read, ("@r", replicaId), ("@h", md5));

    /// <summary>The MD5s of every copy whose primary message vanished: the move pool, to test against without a query per message.</summary>
    public IReadOnlyList<byte[]> VanishedMd5s(long replicaId) =>
        _store.Query("SELECT m.md5 FROM messages m JOIN folders f ON f.id = m.folder_id WHERE f.replica_id = @r AND m.vanished_at IS NOT NULL",
            r => (byte[])r[0], ("@r", replicaId));

    /// <summary>Live copies elsewhere that look like this message (same Message-ID, size and date): possible sources of a move.</summary>
    public IReadOnlyList<MessageRecord> LookAlikes(long replicaId, long exceptFolderId, string messageId, long size, DateTimeOffset? internalDate) =>
        _store.Query($"SELECT m.{Columns.Replace(", ", ", m.")} FROM messages m JOIN folders f ON f.id = m.folder_id "
            + "WHERE f.replica_id = @r AND m.message_id = @m AND m.size = @s AND m.folder_id <> @f AND m.vanished_at IS NULL "
            + "AND m.internal_date IS NOT DISTINCT FROM @d",
            Read, ("@r", replicaId), ("@m", messageId), ("@s", size), ("@f", exceptFolderId), ("@d", internalDate?.ToUnixTimeSeconds()));

    /// <summary>Marks messages the primary expunged; their replica copies are removed later.</summary>
    public void MarkVanished(long folderId, IEnumerable<uint> primaryUids) =>
        _store.InTransaction(() =>
        {
            using var command = _store.Command("UPDATE messages SET vanished_at = @t WHERE folder_id = @f AND primary_uid = @p AND vanished_at IS NULL",
                ("@t", _store.Now()), ("@f", folderId), ("@p", 0L));
            foreach (var uid in primaryUids)
            {
                command.Parameters["@p"].Value = (long)uid;
                command.ExecuteNonQuery();
            }
        });

    /// <summary>Per folder, when its oldest expunge still waiting was seen, and how many wait.</summary>
    public IReadOnlyList<(string Folder, DateTimeOffset Oldest, int Count)> OldestVanished(long replicaId) =>
        _store.Query("SELECT f.primary_name, MIN(m.vanished_at), COUNT(*) FROM messages m JOIN folders f ON f.id = m.folder_id "
            + "WHERE f.replica_id = @r AND m.vanished_at IS NOT NULL GROUP BY f.primary_name",
            r => (r.GetString(0), StateStore.ReadTime(r, 1)!.Value, r.Int(2)), ("@r", replicaId));

    /// <summary>Vanished messages marked at or before <paramref name="before"/>, by folder: expunges now due on the replica.</summary>
    public IReadOnlyList<MessageRecord> VanishedBefore(long replicaId, DateTimeOffset before) =>
        _store.Query($"SELECT m.{Columns.Replace(", ", ", m.")} FROM messages m JOIN folders f ON f.id = m.folder_id "
            + "WHERE f.replica_id = @r AND m.vanished_at IS NOT NULL AND m.vanished_at <= @t ORDER BY m.folder_id, m.replica_uid",
            Read, ("@r", replicaId), ("@t", StateStore.Iso(before)));

    /// <summary>Inserts or replaces rows, in one transaction.</summary>
    public void Put(IEnumerable<MessageRecord> rows) =>
        _store.InTransaction(() =>
        {
            using var replace = _store.Replace("messages", "folder_id = @f AND primary_uid = @p", $"({InsertColumns}) VALUES (@f, @p, @r, @h, @s, @d, @fl, @m)",
                ("@f", 0L), ("@p", 0L), ("@r", 0L), ("@h", Array.Empty<byte>()), ("@s", 0L), ("@d", null), ("@fl", ""), ("@m", null));
            foreach (var row in rows)
            {
                replace["@f"] = row.FolderId;
                replace["@p"] = (long)row.PrimaryUid;
                replace["@r"] = (long)row.ReplicaUid;
                replace["@h"] = row.Md5;
                replace["@s"] = row.Size;
                replace["@d"] = row.InternalDate?.ToUnixTimeSeconds();
                replace["@fl"] = row.Flags;
                replace["@m"] = row.MessageId;
                replace.Execute();
            }
        });

    public void Remove(long folderId, IEnumerable<uint> primaryUids) =>
        _store.InTransaction(() =>
        {
            using var command = _store.Command("DELETE FROM messages WHERE folder_id = @f AND primary_uid = @p", ("@f", folderId), ("@p", 0L));
            foreach (var uid in primaryUids)
            {
                command.Parameters["@p"].Value = (long)uid;
                command.ExecuteNonQuery();
            }
        });

    public void SetFlags(long folderId, IEnumerable<(uint PrimaryUid, string Flags)> changes) =>
        _store.InTransaction(() =>
        {
            using var command = _store.Command("UPDATE messages SET flags = @fl WHERE folder_id = @f AND primary_uid = @p", ("@fl", ""), ("@f", folderId), ("@p", 0L));
            foreach (var (uid, flags) in changes)
            {
                command.Parameters["@fl"].Value = flags;
                command.Parameters["@p"].Value = (long)uid;
                command.ExecuteNonQuery();
            }
        });

    public void Clear(long folderId) => _store.Execute("DELETE FROM messages WHERE folder_id = @f", ("@f", folderId));

    private static MessageRecord Read(DbDataReader r) => new()
    {
        FolderId = r.GetInt64(0),
        PrimaryUid = (uint)r.GetInt64(1),
        ReplicaUid = (uint)r.GetInt64(2),
        Md5 = (byte[])r[3],
        Size = r.GetInt64(4),
        InternalDate = r.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeSeconds(r.GetInt64(5)),
        Flags = r.GetString(6),
        MessageId = r.Text(7),
        VanishedAt = StateStore.ReadTime(r, 8),
    };
}

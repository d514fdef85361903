namespace Observer.State;

/// <summary>Copies an archive replica keeps after the primary expunged them: known, so never taken for strays or removed.</summary>
public sealed class KeptMessageRepository
{
    private readonly StateStore _store;

    internal KeptMessageRepository(StateStore store) => _store = store;

    /// <summary>Turns these rows of live messages into kept copies, in the caller's transaction; <paramref name="flags"/> is what each copy carries now.</summary>
    public void Keep(long folderId, IEnumerable<MessageRecord> rows, Func<MessageRecord, string> flags)
    {
        using var replace = _store.Replace("kept_messages", "folder_id = @f AND replica_uid = @r",
            "(folder_id, replica_uid, primary_uid, md5, size, internal_date, flags, kept_at) VALUES (@f, @r, @p, @h, @s, @d, @fl, @t)",
            ("@f", folderId), ("@r", 0L), ("@p", 0L), ("@h", Array.Empty<byte>()), ("@s", 0L), ("@d", null), ("@fl", ""), ("@t", _store.Now()));
        foreach (var row in rows)
        {
            replace["@r"] = (long)row.ReplicaUid;
            replace["@p"] = (long)row.PrimaryUid;
            replace["@h"] = row.Md5;
            replace["@s"] = row.Size;
            replace["@d"] = row.InternalDate?.ToUnixTimeSeconds();
            replace["@fl"] = flags(row);
            replace.Execute();
        }
    }

    /// <summary>Kept copies with these bytes, as rows of the folder they are in (their primary UID is the one they had).</summary>
    public IReadOnlyList<MessageRecord> ByMd5(long replicaId, byte[] md5) =>
        _store.Query("SELECT k.folder_id, k.primary_uid, k.replica_uid, k.md5, k.size, k.internal_date, k.flags FROM kept_messages k "
            + "JOIN folders f ON f.id = k.folder_id WHERE f.replica_id = @r AND k.md5 = @h ORDER BY k.kept_at",
            r => new MessageRecord
            {
                FolderId = r.GetInt64(0),
                PrimaryUid = (uint)r.GetInt64(1),
                ReplicaUid = (uint)r.GetInt64(2),
                Md5 = (byte[])r[3],
                Size = r.GetInt64(4),
                InternalDate = r.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeSeconds(r.GetInt64(5)),
                Flags = r.GetString(6),
            }, ("@r", replicaId), ("@h", md5));

    /// <summary>The replica UIDs kept in a folder.</summary>
    public HashSet<uint> ReplicaUids(long folderId) =>
        _store.Query("SELECT replica_uid FROM kept_messages WHERE folder_id = @f", r => (uint)r.GetInt64(0), ("@f", folderId)).ToHashSet();

    /// <summary>How many copies an archive keeps in a folder.</summary>
    public int Count(long folderId) =>
        _store.Query("SELECT COUNT(*) FROM kept_messages WHERE folder_id = @f", r => r.Int(0), ("@f", folderId)).Single();

    /// <summary>Kept copies that are gone from the replica (someone deleted them there): nothing to keep track of any more.</summary>
    public void Forget(long folderId, IEnumerable<uint> replicaUids) =>
        _store.InTransaction(() =>
        {
            using var command = _store.Command("DELETE FROM kept_messages WHERE folder_id = @f AND replica_uid = @r", ("@f", folderId), ("@r", 0L));
            foreach (var uid in replicaUids)
            {
                command.Parameters["@r"].Value = (long)uid;
                command.ExecuteNonQuery();
            }
        });

    /// <summary>The replica folder was recreated: its UIDs changed, and what it keeps is re-learned as it is found.</summary>
    public void Clear(long folderId) => _store.Execute("DELETE FROM kept_messages WHERE folder_id = @f", ("@f", folderId));
}

namespace Observer.State;

/// <summary>Copies an archive replica keeps after the primary expunged them: known, so never taken for strays or removed.</summary>
public sealed class KeptMessageRepository
{
    private readonly StateStore _store;

    internal KeptMessageRepository(StateStore store) => _store = store;

    /// <summary>Turns these rows of live messages into kept copies, in the caller's transaction.</summary>
    public void Keep(long folderId, IEnumerable<MessageRecord> rows)
    {
        using var command = _store.Command(
            "INSERT OR REPLACE INTO kept_messages (folder_id, replica_uid, primary_uid, md5, size, kept_at) VALUES ($f, $r, $p, $h, $s, $t)",
            ("$f", folderId), ("$r", 0L), ("$p", 0L), ("$h", Array.Empty<byte>()), ("$s", 0L), ("$t", _store.Now()));
        foreach (var row in rows)
        {
            command.Parameters["$r"].Value = (long)row.ReplicaUid;
            command.Parameters["$p"].Value = (long)row.PrimaryUid;
            command.Parameters["$h"].Value = row.Md5;
            command.Parameters["$s"].Value = row.Size;
            command.ExecuteNonQuery();
        }
    }

    /// <summary>The replica UIDs kept in a folder.</summary>
    public HashSet<uint> ReplicaUids(long folderId) =>
        _store.Query("SELECT replica_uid FROM kept_messages WHERE folder_id = $f", r => (uint)r.GetInt64(0), ("$f", folderId)).ToHashSet();

    /// <summary>How many copies an archive keeps, over every folder of a replica.</summary>
    public int Count(long replicaId) =>
        _store.Query("SELECT COUNT(*) FROM kept_messages k JOIN folders f ON f.id = k.folder_id WHERE f.replica_id = $r", r => r.GetInt32(0), ("$r", replicaId)).Single();

    /// <summary>Kept copies that are gone from the replica (someone deleted them there): nothing to keep track of any more.</summary>
    public void Forget(long folderId, IEnumerable<uint> replicaUids) =>
        _store.InTransaction(() =>
        {
            using var command = _store.Command("DELETE FROM kept_messages WHERE folder_id = $f AND replica_uid = $r", ("$f", folderId), ("$r", 0L));
            foreach (var uid in replicaUids)
            {
                command.Parameters["$r"].Value = (long)uid;
                command.ExecuteNonQuery();
            }
        });

    /// <summary>The replica folder was recreated: its UIDs changed, and what it keeps is re-learned as it is found.</summary>
    public void Clear(long folderId) => _store.Execute("DELETE FROM kept_messages WHERE folder_id = $f", ("$f", folderId));
}

using System.Data.Common;

namespace Observer.State;

public sealed class JournalRepository
{
    private readonly StateStore _store;

    internal JournalRepository(StateStore store) => _store = store;

    /// <summary>Records the intent of each write before it is sent; returns their ids in order.</summary>
    public IReadOnlyList<long> Begin(IEnumerable<JournalEntry> entries)
    {
        var ids = new List<long>();
        _store.InTransaction(() =>
        {
            using var command = _store.Command(
                "INSERT INTO journal (replica_id, folder, operation, primary_uid, md5, size, message_id, detail, begun_at, lease_token) "
                + "VALUES (@r, @f, @o, @p, @h, @s, @m, @d, @t, @l) RETURNING id",
                ("@r", 0L), ("@f", ""), ("@o", ""), ("@p", null), ("@h", null), ("@s", null), ("@m", null), ("@d", null), ("@t", _store.Now()), ("@l", null));
            long? fenced = null;
            foreach (var e in entries)
            {
                // On a shared state, under this worker's lease on the account, checked once per replica in the transaction.
                if (_store.Fence is not null && fenced != e.ReplicaId)
                {
                    command.Parameters["@l"].Value = (object?)_store.Leases.Fence(e.ReplicaId) ?? DBNull.Value;
                    fenced = e.ReplicaId;
                }
                command.Parameters["@r"].Value = e.ReplicaId;
                command.Parameters["@f"].Value = e.Folder;
                command.Parameters["@o"].Value = e.Operation;
                command.Parameters["@p"].Value = e.PrimaryUid is { } p ? (long)p : DBNull.Value;
                command.Parameters["@h"].Value = (object?)e.Md5 ?? DBNull.Value;
                command.Parameters["@s"].Value = (object?)e.Size ?? DBNull.Value;
                command.Parameters["@m"].Value = (object?)e.MessageId ?? DBNull.Value;
                command.Parameters["@d"].Value = (object?)e.Detail ?? DBNull.Value;
                ids.Add((long)command.ExecuteScalar()!);
            }
        });
        return ids;
    }

    public long Begin(JournalEntry entry) => Begin([entry])[0];

    /// <summary>Marks writes done. Call inside the transaction that records their effect.</summary>
    public void Complete(IEnumerable<long> ids) => SetState(ids, "done");

    /// <summary>Marks writes the server refused: nothing happened, nothing to recover.</summary>
    public void Abandon(IEnumerable<long> ids) => SetState(ids, "refused");

    private void SetState(IEnumerable<long> ids, string state) =>
        _store.InTransaction(() =>
        {
            // A worker that lost its lease does not record the outcome: the entry stays open, for the new owner to settle.
            if (_store.Fence is not null)
                foreach (var replica in ids.Take(1).Select(_store.Leases.ReplicaOfEntry).OfType<long>()) _store.Leases.Fence(replica);
            using var command = _store.Command("UPDATE journal SET state = @s, done_at = @t WHERE id = @id", ("@s", state), ("@t", _store.Now()), ("@id", 0L));
            foreach (var id in ids)
            {
                command.Parameters["@id"].Value = id;
                command.ExecuteNonQuery();
            }
        });

    /// <summary>Writes begun and never finished: after a crash, these say where a copy may already exist.</summary>
    public IReadOnlyList<JournalEntry> Open(long replicaId, string? folder = null) =>
        _store.Query(
            "SELECT id, replica_id, folder, operation, primary_uid, md5, size, message_id, detail, state, begun_at FROM journal "
            + "WHERE replica_id = @r AND state = 'begun' AND (CAST(@f AS TEXT) IS NULL OR folder = @f) ORDER BY id",
            Read, ("@r", replicaId), ("@f", folder));

    /// <summary>The MD5s of the messages appended to a replica since <paramref name="since"/>, as far as the journal still reaches.</summary>
    public HashSet<string> AppendedSince(long replicaId, DateTimeOffset since) =>
        _store.Query("SELECT DISTINCT md5 FROM journal WHERE replica_id = @r AND operation = @o AND md5 IS NOT NULL AND begun_at >= @t",
            r => Convert.ToHexString((byte[])r[0]).ToLowerInvariant(), ("@r", replicaId), ("@o", Append), ("@t", StateStore.Iso(since))).ToHashSet(StringComparer.Ordinal);

    public int OpenCount(long replicaId) =>
        _store.Query("SELECT COUNT(*) FROM journal WHERE replica_id = @r AND state = 'begun'", r => r.Int(0), ("@r", replicaId)).Single();

    /// <summary>The journal operation of a folder rename, which the tree sync alone settles.</summary>
    public const string FolderRename = "rename-folder";

    /// <summary>The journal operation of messages appended to the replica, with each one's primary UID and MD5.</summary>
    public const string Append = "append";

    /// <summary>The journal operation of replica messages removed because the primary has no message they are a copy of.</summary>
    public const string RemoveExtra = "remove-extra";

    /// <summary>The journal operations of a replica copy moved (or copied, without MOVE) into the folder of its primary UID and MD5.</summary>
    public const string Move = "move", Copy = "copy";

    /// <summary>
    /// Resolves open entries of a folder once a full reconciliation has accounted for every copy. A folder
    /// rename's intent is not about copies: it stays open for the tree sync to settle from the replica's list.
    /// </summary>
    public void Resolve(long replicaId, string folder) =>
        _store.InTransaction(() =>
        {
            if (_store.Fence is not null) _store.Leases.Fence(replicaId);
            _store.Execute("UPDATE journal SET state = 'resolved', done_at = @t WHERE replica_id = @r AND folder = @f AND state = 'begun' AND operation <> @o",
                ("@t", _store.Now()), ("@r", replicaId), ("@f", folder), ("@o", FolderRename));
        });

    /// <summary>Open entries follow their folder (and its children) through a rename: the copies moved with it.</summary>
    public void Rename(long replicaId, string oldFolder, string newFolder, char? delimiter) =>
        _store.InTransaction(() =>
        {
            foreach (var folder in Open(replicaId).Select(e => e.Folder).Distinct(StringComparer.Ordinal).ToList())
            {
                string? renamed = folder == oldFolder ? newFolder
                    : delimiter is { } d && folder.StartsWith(oldFolder + d, StringComparison.Ordinal) ? newFolder + folder[oldFolder.Length..]
                    : null;
                if (renamed is not null)
                    _store.Execute("UPDATE journal SET folder = @n WHERE replica_id = @r AND folder = @o AND state = 'begun'", ("@r", replicaId), ("@o", folder), ("@n", renamed));
            }
        });

    /// <summary>
    /// Deletes the replica's entries finished (done, refused or resolved) more than <paramref name="retention"/>
    /// ago, so the table does not grow for ever; returns how many. Open ('begun') entries are always kept:
    /// they are the evidence crash recovery needs, however old.
    /// </summary>
    public int Prune(long replicaId, TimeSpan retention) =>
        _store.Execute(PruneSql, ("@r", replicaId), ("@t", StateStore.Iso(_store.Time.GetUtcNow() - retention)));

    /// <summary>Matches the partial index journal_finished (migration 0003), so the delete does not scan.</summary>
    internal const string PruneSql = "DELETE FROM journal WHERE replica_id = @r AND state <> 'begun' AND done_at < @t";

    private static JournalEntry Read(DbDataReader r) => new()
    {
        Id = r.GetInt64(0),
        ReplicaId = r.GetInt64(1),
        Folder = r.GetString(2),
        Operation = r.GetString(3),
        PrimaryUid = r.UInt(4),
        Md5 = r.IsDBNull(5) ? null : (byte[])r[5],
        Size = r.IsDBNull(6) ? null : r.GetInt64(6),
        MessageId = r.Text(7),
        Detail = r.Text(8),
        State = r.GetString(9),
        BegunAt = StateStore.ReadTime(r, 10)!.Value,
    };
}

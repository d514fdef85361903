using System.Data.Common;

namespace Observer.State;

public sealed class ReplicaRepository
{
    private const string Columns = "id, account, name, mode, delay_seconds, primary_endpoint, replica_endpoint";

    private readonly StateStore _store;

    internal ReplicaRepository(StateStore store) => _store = store;

    /// <summary>
    /// Finds the named replica of an account or creates it. Returns whether its endpoints differ from last time,
    /// in which case the caller must not trust the old checkpoints blindly.
    /// </summary>
    /// <param name="mode">The replica's policy (mirror, delayed, archive), and for a delayed one its delay: kept for `observer status`.</param>
    public (ReplicaRecord Replica, bool EndpointsChanged) Ensure(string name, string primaryEndpoint, string replicaEndpoint, string account = "",
        string mode = "mirror", int delaySeconds = 0)
    {
        ReplicaRecord? existing = null;
        var changed = false;
        _store.InTransaction(() =>
        {
            existing = Find(name, account);
            if (existing is null)
            {
                _store.Execute(
                    "INSERT INTO replicas (account, name, primary_endpoint, replica_endpoint, created_at, mode, delay_seconds) VALUES (@a, @n, @p, @r, @t, @m, @d) "
                    + "ON CONFLICT (account, name) DO NOTHING",
                    ("@a", account), ("@n", name), ("@p", primaryEndpoint), ("@r", replicaEndpoint), ("@t", _store.Now()), ("@m", mode), ("@d", delaySeconds));
                existing = Find(name, account);
                return;
            }
            if (existing.Mode != mode || existing.DelaySeconds != delaySeconds)
                _store.Execute("UPDATE replicas SET mode = @m, delay_seconds = @d WHERE id = @id", ("@m", mode), ("@d", delaySeconds), ("@id", existing.Id));
            if (existing.PrimaryEndpoint != primaryEndpoint || existing.ReplicaEndpoint != replicaEndpoint)
            {
                changed = true;
                _store.Execute("UPDATE replicas SET primary_endpoint = @p, replica_endpoint = @r WHERE id = @id",
                    ("@p", primaryEndpoint), ("@r", replicaEndpoint), ("@id", existing.Id));
            }
            existing = Find(name, account);
        });
        return (existing!, changed);
    }

    public ReplicaRecord? Find(string name, string account = "") =>
        _store.Query($"SELECT {Columns} FROM replicas WHERE account = @a AND name = @n", Read, ("@a", account), ("@n", name)).SingleOrDefault();

    /// <summary>Every account's replicas, by account and name.</summary>
    public IReadOnlyList<ReplicaRecord> All() => _store.Query($"SELECT {Columns} FROM replicas ORDER BY account, name", Read);

    /// <summary>Deletes a replica and everything that hangs off it (folders, messages, journal, troubles, holds, service row).</summary>
    public void Remove(long replicaId) => _store.Execute("DELETE FROM replicas WHERE id = @id", ("@id", replicaId));

    private static ReplicaRecord Read(DbDataReader r) =>
        new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.Int(4), r.GetString(5), r.GetString(6));
}

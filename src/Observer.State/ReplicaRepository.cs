namespace Observer.State;

public sealed class ReplicaRepository
{
    private readonly StateStore _store;

    internal ReplicaRepository(StateStore store) => _store = store;

    /// <summary>
    /// Finds the named replica or creates it. Returns whether its endpoints differ from last time,
    /// in which case the caller must not trust the old checkpoints blindly.
    /// </summary>
    public (ReplicaRecord Replica, bool EndpointsChanged) Ensure(string name, string primaryEndpoint, string replicaEndpoint)
    {
        ReplicaRecord? existing = null;
        var changed = false;
        _store.InTransaction(() =>
        {
            existing = Find(name);
            if (existing is null)
            {
                _store.Execute(
                    "INSERT INTO replicas (name, primary_endpoint, replica_endpoint, created_at) VALUES ($n, $p, $r, $t)",
                    ("$n", name), ("$p", primaryEndpoint), ("$r", replicaEndpoint), ("$t", _store.Now()));
            }
            else if (existing.PrimaryEndpoint != primaryEndpoint || existing.ReplicaEndpoint != replicaEndpoint)
            {
                changed = true;
                _store.Execute("UPDATE replicas SET primary_endpoint = $p, replica_endpoint = $r WHERE id = $id",
                    ("$p", primaryEndpoint), ("$r", replicaEndpoint), ("$id", existing.Id));
            }
            existing = Find(name);
        });
        return (existing!, changed);
    }

    public ReplicaRecord? Find(string name) =>
        _store.Query("SELECT id, name, mode, delay_seconds, primary_endpoint, replica_endpoint FROM replicas WHERE name = $n",
            r => new ReplicaRecord(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetInt32(3), r.GetString(4), r.GetString(5)),
            ("$n", name)).SingleOrDefault();
}

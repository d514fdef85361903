namespace Observer.State;

public sealed class ServiceRepository
{
    private readonly StateStore _store;

    internal ServiceRepository(StateStore store) => _store = store;

    /// <summary>
    /// Records what the service says of a replica. On a shared state only while this worker holds the account's lease: a
    /// worker that lost it (paused past it) must not write over what its successor says.
    /// </summary>
    public void Save(long replicaId, ServiceRecord record)
    {
        if (_store.Fence is not null && !_store.Leases.HeldHere(replicaId)) return;
        _store.Execute(
            "INSERT INTO service (replica_id, pid, started_at, heartbeat_at, primary_state, replica_state, watch_mode, last_error) "
            + "VALUES (@r, @pid, @s, @h, @ps, @rs, @w, @e) ON CONFLICT (replica_id) DO UPDATE SET pid = @pid, started_at = @s, "
            + "heartbeat_at = @h, primary_state = @ps, replica_state = @rs, watch_mode = @w, last_error = @e",
            ("@r", replicaId), ("@pid", record.Pid), ("@s", record.StartedAt is { } s ? StateStore.Iso(s) : null),
            ("@h", record.HeartbeatAt is { } h ? StateStore.Iso(h) : null), ("@ps", record.PrimaryState), ("@rs", record.ReplicaState),
            ("@w", record.WatchMode), ("@e", record.LastError));
    }

    public ServiceRecord? Get(long replicaId) =>
        _store.Query("SELECT pid, started_at, heartbeat_at, primary_state, replica_state, watch_mode, last_error FROM service WHERE replica_id = @r",
            r => new ServiceRecord
            {
                Pid = r.IsDBNull(0) ? null : r.Int(0),
                StartedAt = StateStore.ReadTime(r, 1),
                HeartbeatAt = StateStore.ReadTime(r, 2),
                PrimaryState = r.Text(3),
                ReplicaState = r.Text(4),
                WatchMode = r.Text(5),
                LastError = r.Text(6),
            }, ("@r", replicaId)).SingleOrDefault();
}

namespace Observer.State;

public sealed class TroubleRepository
{
    private readonly StateStore _store;

    internal TroubleRepository(StateStore store) => _store = store;

    /// <summary>Records a failure of a folder, counting attempts and keeping when the trouble began.</summary>
    public TroubleRecord Record(long replicaId, string folder, string kind, string error, DateTimeOffset nextAttempt)
    {
        _store.Execute(
            "INSERT INTO troubles (replica_id, folder, kind, error, since, last_attempt, attempts, next_attempt) VALUES (@r, @f, @k, @e, @t, @t, 1, @n) "
            + "ON CONFLICT (replica_id, folder) DO UPDATE SET kind = @k, error = @e, last_attempt = @t, attempts = troubles.attempts + 1, next_attempt = @n",
            ("@r", replicaId), ("@f", folder), ("@k", kind), ("@e", error), ("@t", _store.Now()), ("@n", StateStore.Iso(nextAttempt)));
        return Find(replicaId, folder)!;
    }

    /// <summary>Ends the backoff of a folder (or of every folder) in trouble: it is due at once. Its attempts still count.</summary>
    public int RetryNow(long replicaId, string? folder) =>
        _store.Execute("UPDATE troubles SET next_attempt = @t WHERE replica_id = @r AND (CAST(@f AS TEXT) IS NULL OR folder = @f)", ("@r", replicaId), ("@f", folder), ("@t", _store.Now()));

    public void Clear(long replicaId, string folder) =>
        _store.Execute("DELETE FROM troubles WHERE replica_id = @r AND folder = @f", ("@r", replicaId), ("@f", folder));

    /// <summary>Follows a rename of a folder and everything below it.</summary>
    public void Rename(long replicaId, string oldFolder, string newFolder, char? delimiter) =>
        _store.InTransaction(() =>
        {
            foreach (var t in All(replicaId))
            {
                string? renamed = t.Folder == oldFolder ? newFolder
                    : delimiter is { } d && t.Folder.StartsWith(oldFolder + d, StringComparison.Ordinal) ? newFolder + t.Folder[oldFolder.Length..]
                    : null;
                if (renamed is null) continue;
                // What SQLite's UPDATE OR REPLACE does, in SQL PostgreSQL speaks too; two commands (see StateStore.Statements).
                _store.Execute("DELETE FROM troubles WHERE replica_id = @r AND folder = @n", ("@r", replicaId), ("@n", renamed));
                _store.Execute("UPDATE troubles SET folder = @n WHERE replica_id = @r AND folder = @o", ("@r", replicaId), ("@o", t.Folder), ("@n", renamed));
            }
        });

    /// <summary>Forgets troubles of folders that are no longer replicated (deleted, excluded).</summary>
    public void Prune(long replicaId, IReadOnlySet<string> folders)
    {
        foreach (var t in All(replicaId).Where(t => !folders.Contains(t.Folder))) Clear(replicaId, t.Folder);
    }

    public TroubleRecord? Find(long replicaId, string folder) => All(replicaId).SingleOrDefault(t => t.Folder == folder);

    public IReadOnlyList<TroubleRecord> All(long replicaId) =>
        _store.Query("SELECT folder, kind, error, since, last_attempt, attempts, next_attempt FROM troubles WHERE replica_id = @r ORDER BY folder",
            r => new TroubleRecord(r.GetString(0), r.GetString(1), r.GetString(2), StateStore.ReadTime(r, 3)!.Value,
                StateStore.ReadTime(r, 4)!.Value, r.Int(5), StateStore.ReadTime(r, 6)!.Value),
            ("@r", replicaId));
}

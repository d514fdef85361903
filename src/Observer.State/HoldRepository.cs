namespace Observer.State;

/// <summary>
/// Deletions held by the delete guard. Written by the engine, approved by `observer approve` from
/// another process (the database is shared through WAL), and read back by the running service.
/// </summary>
public sealed class HoldRepository
{
    private readonly StateStore _store;

    internal HoldRepository(StateStore store) => _store = store;

    /// <summary>Records (or refreshes) a hold; returns true when it is new, so it is reported once, not at every pass.</summary>
    public bool Put(long replicaId, string folder, HoldKind kind, int count, string reason)
    {
        var isNew = Find(replicaId, folder, kind) is null;
        _store.Execute(
            "INSERT INTO holds (replica_id, folder, kind, count, reason, since) VALUES (@r, @f, @k, @c, @why, @t) "
            + "ON CONFLICT (replica_id, folder, kind) DO UPDATE SET count = @c, reason = @why",
            ("@r", replicaId), ("@f", folder), ("@k", Name(kind)), ("@c", count), ("@why", reason), ("@t", _store.Now()));
        return isNew;
    }

    /// <summary>The deletion was done, or is no longer wanted.</summary>
    public void Clear(long replicaId, string folder, HoldKind kind) =>
        _store.Execute("DELETE FROM holds WHERE replica_id = @r AND folder = @f AND kind = @k", ("@r", replicaId), ("@f", folder), ("@k", Name(kind)));

    /// <summary>Approves the holds of one folder, or every hold when <paramref name="folder"/> is null.</summary>
    /// <returns>How many holds were approved.</returns>
    public int Approve(long replicaId, string? folder) =>
        _store.Execute("UPDATE holds SET approved_at = @t WHERE replica_id = @r AND approved_at IS NULL AND (CAST(@f AS TEXT) IS NULL OR folder = @f)",
            ("@r", replicaId), ("@f", folder), ("@t", _store.Now()));

    public bool IsApproved(long replicaId, string folder, HoldKind kind) => Find(replicaId, folder, kind)?.ApprovedAt is not null;

    public HoldRecord? Find(long replicaId, string folder, HoldKind kind) =>
        All(replicaId).SingleOrDefault(h => h.Folder == folder && h.Kind == kind);

    public IReadOnlyList<HoldRecord> All(long replicaId) =>
        _store.Query("SELECT folder, kind, count, reason, since, approved_at FROM holds WHERE replica_id = @r ORDER BY folder, kind",
            r => new HoldRecord(r.GetString(0), Parse(r.GetString(1)), r.Int(2), r.GetString(3), StateStore.ReadTime(r, 4)!.Value, StateStore.ReadTime(r, 5)),
            ("@r", replicaId));

    /// <summary>Follows a rename of a folder and everything below it.</summary>
    public void Rename(long replicaId, string oldFolder, string newFolder, char? delimiter) =>
        _store.InTransaction(() =>
        {
            foreach (var h in All(replicaId))
            {
                string? renamed = h.Folder == oldFolder ? newFolder
                    : delimiter is { } d && h.Folder.StartsWith(oldFolder + d, StringComparison.Ordinal) ? newFolder + h.Folder[oldFolder.Length..]
                    : null;
                if (renamed is null) continue;
                // Two commands, not one of two statements (see StateStore.Statements).
                _store.Execute("DELETE FROM holds WHERE replica_id = @r AND folder = @n AND kind = @k", ("@r", replicaId), ("@n", renamed), ("@k", Name(h.Kind)));
                _store.Execute("UPDATE holds SET folder = @n WHERE replica_id = @r AND folder = @o AND kind = @k",
                    ("@r", replicaId), ("@o", h.Folder), ("@n", renamed), ("@k", Name(h.Kind)));
            }
        });

    /// <summary>Forgets holds of folders that are no longer replicated at all (excluded, or deleted both sides).</summary>
    public void Prune(long replicaId, IReadOnlySet<string> folders)
    {
        foreach (var h in All(replicaId).Where(h => !folders.Contains(h.Folder))) Clear(replicaId, h.Folder, h.Kind);
    }

    private static string Name(HoldKind kind) => kind == HoldKind.Folder ? "folder" : "messages";

    private static HoldKind Parse(string kind) => kind == "folder" ? HoldKind.Folder : HoldKind.Messages;
}

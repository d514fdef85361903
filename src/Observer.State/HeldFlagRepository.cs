namespace Observer.State;

/// <summary>A delayed replica's flag removals that wait out its delay: the primary's flags for the message, and since when.</summary>
public sealed class HeldFlagRepository
{
    private readonly StateStore _store;

    internal HeldFlagRepository(StateStore store) => _store = store;

    /// <summary>A folder's held removals, by primary UID.</summary>
    public Dictionary<uint, (string Flags, DateTimeOffset Since)> ForFolder(long folderId) =>
        _store.Query("SELECT primary_uid, flags, since FROM held_flags WHERE folder_id = $f",
            r => ((uint)r.GetInt64(0), r.GetString(1), StateStore.ReadTime(r, 2)!.Value), ("$f", folderId))
            .ToDictionary(h => h.Item1, h => (h.Item2, h.Item3));

    /// <summary>Holds a removal (or updates the flags it waits to set), keeping when it was first seen.</summary>
    public void Hold(long folderId, uint primaryUid, string flags, DateTimeOffset since) =>
        _store.Execute("INSERT INTO held_flags (folder_id, primary_uid, flags, since) VALUES ($f, $p, $fl, $t) "
            + "ON CONFLICT (folder_id, primary_uid) DO UPDATE SET flags = $fl",
            ("$f", folderId), ("$p", (long)primaryUid), ("$fl", flags), ("$t", StateStore.Iso(since)));

    public void Release(long folderId, IEnumerable<uint> primaryUids) =>
        _store.InTransaction(() =>
        {
            using var command = _store.Command("DELETE FROM held_flags WHERE folder_id = $f AND primary_uid = $p", ("$f", folderId), ("$p", 0L));
            foreach (var uid in primaryUids)
            {
                command.Parameters["$p"].Value = (long)uid;
                command.ExecuteNonQuery();
            }
        });

    /// <summary>Per folder, when its oldest held removal was first seen, and how many wait.</summary>
    public IReadOnlyList<(string Folder, DateTimeOffset Oldest, int Count)> Oldest(long replicaId) =>
        _store.Query("SELECT f.primary_name, MIN(h.since), COUNT(*) FROM held_flags h JOIN folders f ON f.id = h.folder_id "
            + "WHERE f.replica_id = $r GROUP BY f.primary_name",
            r => (r.GetString(0), StateStore.ReadTime(r, 1)!.Value, r.GetInt32(2)), ("$r", replicaId));
}

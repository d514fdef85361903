namespace Observer.State;

/// <summary>A delayed replica's flag removals that wait out its delay: per message and flag, since when (see 0008_held_flags.sql).</summary>
public sealed class HeldFlagRepository
{
    private readonly StateStore _store;

    internal HeldFlagRepository(StateStore store) => _store = store;

    /// <summary>A folder's held removals: by primary UID, each flag with the time its removal was seen.</summary>
    public Dictionary<uint, Dictionary<string, DateTimeOffset>> ForFolder(long folderId)
    {
        var held = new Dictionary<uint, Dictionary<string, DateTimeOffset>>();
        foreach (var (uid, flag, since) in _store.Query("SELECT primary_uid, flag, since FROM held_flags WHERE folder_id = @f",
                     r => ((uint)r.GetInt64(0), r.GetString(1), StateStore.ReadTime(r, 2)!.Value), ("@f", folderId)))
        {
            if (!held.TryGetValue(uid, out var flags)) held[uid] = flags = new Dictionary<string, DateTimeOffset>(StringComparer.OrdinalIgnoreCase);
            flags[flag] = since;
        }
        return held;
    }

    /// <summary>Starts the clocks of new holds and ends those applied or withdrawn; in the caller's transaction, beside the STORE it records.</summary>
    public void Save(long folderId, IEnumerable<(uint Uid, string Flag, DateTimeOffset Since)> holds, IEnumerable<(uint Uid, string Flag)> releases) =>
        _store.InTransaction(() =>
        {
            foreach (var (uid, flag, since) in holds)
                _store.Execute("INSERT INTO held_flags (folder_id, primary_uid, flag, since) VALUES (@f, @u, @g, @t) ON CONFLICT DO NOTHING",
                    ("@f", folderId), ("@u", (long)uid), ("@g", flag), ("@t", StateStore.Iso(since)));
            foreach (var (uid, flag) in releases)
                _store.Execute("DELETE FROM held_flags WHERE folder_id = @f AND primary_uid = @u AND flag = @g", ("@f", folderId), ("@u", (long)uid), ("@g", flag));
        });

    /// <summary>Per folder still on the primary: when its oldest held removal was seen, and how many wait.</summary>
    public IReadOnlyList<(string Folder, DateTimeOffset Oldest, int Count)> Oldest(long replicaId) =>
        _store.Query("SELECT f.primary_name, MIN(h.since), COUNT(*) FROM held_flags h JOIN folders f ON f.id = h.folder_id "
            + "WHERE f.replica_id = @r AND f.gone_since IS NULL GROUP BY f.primary_name",
            r => (r.GetString(0), StateStore.ReadTime(r, 1)!.Value, r.Int(2)), ("@r", replicaId));
}

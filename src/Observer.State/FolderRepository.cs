using System.Data.Common;

namespace Observer.State;

public sealed class FolderRepository
{
    private const string Columns =
        "id, replica_id, primary_name, replica_name, primary_uidvalidity, primary_uidnext, primary_modseq, primary_messages, "
        + "replica_uidvalidity, replica_uidnext, replica_modseq, replica_messages, last_synced_at, dirty_since, primary_low, primary_low_at, gone_since";

    private readonly StateStore _store;

    internal FolderRepository(StateStore store) => _store = store;

    public IReadOnlyList<FolderRecord> All(long replicaId) =>
        _store.Query($"SELECT {Columns} FROM folders WHERE replica_id = @r ORDER BY primary_name", Read, ("@r", replicaId));

    public FolderRecord? Find(long replicaId, string primaryName) =>
        _store.Query($"SELECT {Columns} FROM folders WHERE replica_id = @r AND primary_name = @n", Read, ("@r", replicaId), ("@n", primaryName))
            .SingleOrDefault();

    public FolderRecord? Get(long folderId) =>
        _store.Query($"SELECT {Columns} FROM folders WHERE id = @id", Read, ("@id", folderId)).SingleOrDefault();

    public FolderRecord Add(long replicaId, string primaryName, string replicaName)
    {
        _store.Execute("INSERT INTO folders (replica_id, primary_name, replica_name) VALUES (@r, @p, @n)",
            ("@r", replicaId), ("@p", primaryName), ("@n", replicaName));
        return Find(replicaId, primaryName)!;
    }

    /// <summary>
    /// Stores both sides' checkpoints after a complete sync. The dirty mark is cleared only if it is
    /// older than the sync, so a change seen while syncing still counts as lag.
    /// </summary>
    public void SaveCheckpoint(FolderRecord folder, DateTimeOffset syncStarted) =>
        _store.Execute(
            "UPDATE folders SET primary_uidvalidity = @puv, primary_uidnext = @pun, primary_modseq = @pms, primary_messages = @pm, "
            + "primary_low = @pl, primary_low_at = @pla, "
            + "replica_uidvalidity = @ruv, replica_uidnext = @run, replica_modseq = @rms, replica_messages = @rm, "
            + "last_synced_at = @t, dirty_since = CASE WHEN dirty_since > @started THEN dirty_since ELSE NULL END WHERE id = @id",
            ("@puv", Db(folder.PrimaryUidValidity)), ("@pun", Db(folder.PrimaryUidNext)), ("@pms", Db(folder.PrimaryModSeq)), ("@pm", Db(folder.PrimaryMessages)),
            ("@pl", Db(folder.PrimaryLow)), ("@pla", folder.PrimaryLowAt is { } lowAt ? StateStore.Iso(lowAt) : null),
            ("@ruv", Db(folder.ReplicaUidValidity)), ("@run", Db(folder.ReplicaUidNext)), ("@rms", Db(folder.ReplicaModSeq)), ("@rm", Db(folder.ReplicaMessages)),
            ("@t", _store.Now()), ("@started", StateStore.Iso(syncStarted)), ("@id", folder.Id));

    /// <summary>Notes that the primary changed at <paramref name="since"/>, unless an older change is still waiting.</summary>
    public void MarkDirty(long replicaId, string primaryName, DateTimeOffset since) =>
        _store.Execute("UPDATE folders SET dirty_since = @t WHERE replica_id = @r AND primary_name = @n AND dirty_since IS NULL",
            ("@t", StateStore.Iso(since)), ("@r", replicaId), ("@n", primaryName));

    /// <summary>Forgets the checkpoints, so the next sync compares everything.</summary>
    public void ResetCheckpoint(long folderId) =>
        _store.Execute(
            "UPDATE folders SET primary_uidvalidity = NULL, primary_uidnext = NULL, primary_modseq = NULL, primary_messages = NULL, "
            + "primary_low = NULL, primary_low_at = NULL, "
            + "replica_uidvalidity = NULL, replica_uidnext = NULL, replica_modseq = NULL, replica_messages = NULL WHERE id = @id",
            ("@id", folderId));

    /// <summary>Renames a folder and everything below it, on both sides' names.</summary>
    public void Rename(long replicaId, string oldPrimary, string newPrimary, char? primaryDelimiter, string oldReplica, string newReplica, char? replicaDelimiter)
    {
        _store.InTransaction(() =>
        {
            foreach (var folder in All(replicaId))
            {
                var primary = Replace(folder.PrimaryName, oldPrimary, newPrimary, primaryDelimiter);
                if (primary is null) continue;
                var replica = Replace(folder.ReplicaName, oldReplica, newReplica, replicaDelimiter) ?? folder.ReplicaName;
                _store.Execute("UPDATE folders SET primary_name = @p, replica_name = @n WHERE id = @id", ("@p", primary), ("@n", replica), ("@id", folder.Id));
            }
        });
    }

    private static string? Replace(string name, string oldName, string newName, char? delimiter)
    {
        if (name == oldName) return newName;
        if (delimiter is { } d && name.StartsWith(oldName + d, StringComparison.Ordinal)) return newName + name[oldName.Length..];
        return null;
    }

    /// <summary>Notes when the folder was first seen gone from the primary (null: it is back, or was never gone).</summary>
    public void SetGoneSince(long replicaId, string primaryName, DateTimeOffset? since) =>
        _store.Execute("UPDATE folders SET gone_since = @t WHERE replica_id = @r AND primary_name = @n",
            ("@t", since is { } t ? StateStore.Iso(t) : null), ("@r", replicaId), ("@n", primaryName));

    public void Remove(long folderId) => _store.Execute("DELETE FROM folders WHERE id = @id", ("@id", folderId));

    private static object? Db(uint? v) => State.Columns.Db(v);

    private static object? Db(ulong? v) => State.Columns.Db(v);

    private static FolderRecord Read(DbDataReader r) => new()
    {
        Id = r.GetInt64(0),
        ReplicaId = r.GetInt64(1),
        PrimaryName = r.GetString(2),
        ReplicaName = r.GetString(3),
        PrimaryUidValidity = r.UInt(4),
        PrimaryUidNext = r.UInt(5),
        PrimaryModSeq = r.ULong(6),
        PrimaryMessages = r.UInt(7),
        ReplicaUidValidity = r.UInt(8),
        ReplicaUidNext = r.UInt(9),
        ReplicaModSeq = r.ULong(10),
        ReplicaMessages = r.UInt(11),
        LastSyncedAt = StateStore.ReadTime(r, 12),
        DirtySince = StateStore.ReadTime(r, 13),
        PrimaryLow = r.UInt(14),
        PrimaryLowAt = StateStore.ReadTime(r, 15),
        GoneSince = StateStore.ReadTime(r, 16),
    };
}

using System.Data.Common;

namespace Observer.State;

/// <summary>One promotion of one account (see 0007_failover.sql).</summary>
public sealed record FailoverRecord(long Id, string Account, string OldPrimary, string NewPrimary, DateTimeOffset PromotedAt, bool Forced);

/// <summary>One server of a promotion that must be compared with the new primary before it is written to.</summary>
public sealed record FailoverCheck(FailoverRecord Failover, string Server, DateTimeOffset? ReconciledAt);

/// <summary>A message of the failover point: where it was on the old primary and where its copy was on the new one.</summary>
public sealed record FailoverMessage(string OldFolder, string NewFolder, uint? OldUidValidity, uint OldUid, uint? NewUidValidity, uint NewUid, byte[] Md5, string Flags);

/// <summary>A message the copy-back took from the old primary to the new one.</summary>
public sealed record FailoverCopy(string Server, string Folder, byte[] Md5, DateTimeOffset? InternalDate, string? Sender, string? Subject, long Size, DateTimeOffset CopiedAt);

/// <summary>The outcome of `observer drain` for one account and replica.</summary>
public sealed record DrainRecord(string Account, string Replica, DateTimeOffset DrainedAt, bool Identical, string Detail);

/// <summary>Who is the primary after `observer promote`, the failover points, the copy-backs and the drains.</summary>
public sealed class FailoverRepository
{
    private const string Columns = "f.id, f.account, f.old_primary, f.new_primary, f.promoted_at, f.forced";

    private readonly StateStore _store;

    internal FailoverRepository(StateStore store) => _store = store;

    /// <summary>The server promoted to primary, or null when the settings' own primary is.</summary>
    public string? CurrentPrimary() =>
        _store.Query("SELECT primary_name FROM roles WHERE id = 1", r => r.GetString(0)).SingleOrDefault();

    /// <summary>
    /// Records a promotion for every account in one transaction: the failover point (the promoted replica's map of each
    /// account, read from <paramref name="promotedReplicaIds"/>), the servers to compare before writing to them
    /// (<paramref name="checkedServers"/>), the new primary (<paramref name="roleName"/> null: the settings' own primary again),
    /// and then drops every account's replica state, since each replica now follows another server. Mail is untouched.
    /// </summary>
    public void Promote(string oldPrimary, string newPrimary, string? roleName, bool forced, IReadOnlyDictionary<string, long?> promotedReplicaIds,
        IReadOnlyList<string> checkedServers)
    {
        _store.InTransaction(() =>
        {
            var now = _store.Now();
            foreach (var (account, replicaId) in promotedReplicaIds)
            {
                var id = _store.Query(
                    "INSERT INTO failovers (account, old_primary, new_primary, promoted_at, forced) VALUES (@a, @o, @n, @t, @f) RETURNING id",
                    r => r.GetInt64(0), ("@a", account), ("@o", oldPrimary), ("@n", newPrimary), ("@t", now), ("@f", forced ? 1 : 0)).Single();
                foreach (var server in checkedServers)
                    _store.Execute("INSERT INTO failover_checks (failover_id, server) VALUES (@id, @s)", ("@id", id), ("@s", server));
                if (replicaId is null) continue;
                // Expunges still pending (a move in flight, a held deletion) are in it too: the promoted server still holds those
                // copies, and the old primary's other end of a move must not come back beside them.
                _store.Execute("""
                    INSERT INTO failover_messages (failover_id, old_folder, new_folder, old_uidvalidity, old_uid, new_uidvalidity, new_uid, md5, flags)
                    SELECT @id, f.primary_name, f.replica_name, f.primary_uidvalidity, m.primary_uid, f.replica_uidvalidity, m.replica_uid, m.md5, m.flags
                    FROM messages m JOIN folders f ON f.id = m.folder_id
                    WHERE f.replica_id = @r
                    """, ("@id", id), ("@r", replicaId));
            }
            // The server now promoted has nothing to be compared with: it is the primary.
            _store.Execute("UPDATE failover_checks SET reconciled_at = @t WHERE server = @n AND reconciled_at IS NULL", ("@t", now), ("@n", newPrimary));
            if (roleName is null) _store.Execute("DELETE FROM roles");
            else _store.Execute("INSERT INTO roles (id, primary_name, since) VALUES (1, @n, @t) ON CONFLICT (id) DO UPDATE SET primary_name = @n, since = @t",
                ("@n", roleName), ("@t", now));
            _store.Execute("DELETE FROM replicas");
            _store.Execute("DELETE FROM drains");
        });
    }

    /// <summary>The latest promotion of an account that named <paramref name="server"/> to be compared, reconciled or not.</summary>
    public FailoverCheck? Check(string account, string server) =>
        _store.Query($"SELECT {Columns}, c.server, c.reconciled_at FROM failovers f JOIN failover_checks c ON c.failover_id = f.id " +
                     "WHERE f.account = @a AND c.server = @s ORDER BY f.id DESC LIMIT 1",
            r => new FailoverCheck(Read(r), r.GetString(6), StateStore.ReadTime(r, 7)), ("@a", account), ("@s", server)).SingleOrDefault();

    /// <summary>Servers not yet compared with the primary they were promoted away from or to (nothing is written to them until then).</summary>
    public IReadOnlyList<FailoverCheck> Pending() =>
        _store.Query($"SELECT {Columns}, c.server, c.reconciled_at FROM failovers f JOIN failover_checks c ON c.failover_id = f.id " +
                     "WHERE c.reconciled_at IS NULL ORDER BY f.account, c.server", r => new FailoverCheck(Read(r), r.GetString(6), null));

    /// <summary>Every promotion, newest first.</summary>
    public IReadOnlyList<FailoverRecord> All() => _store.Query($"SELECT {Columns} FROM failovers f ORDER BY f.id DESC", Read);

    public IReadOnlyList<FailoverMessage> Point(long failoverId) =>
        _store.Query("SELECT old_folder, new_folder, old_uidvalidity, old_uid, new_uidvalidity, new_uid, md5, flags FROM failover_messages WHERE failover_id = @id",
            r => new FailoverMessage(r.GetString(0), r.GetString(1), r.UInt(2), (uint)r.GetInt64(3), r.UInt(4), (uint)r.GetInt64(5), (byte[])r[6], r.GetString(7)),
            ("@id", failoverId));

    /// <summary>Records a message copied back, at once, so that a copy-back cut short still shows what it did.</summary>
    public void AddCopy(long failoverId, FailoverCopy copy) =>
        _store.Execute("INSERT INTO failover_copies (failover_id, server, folder, md5, internal_date, sender, subject, size, copied_at) VALUES (@id, @v, @f, @m, @d, @s, @j, @z, @t)",
            ("@id", failoverId), ("@v", copy.Server), ("@f", copy.Folder), ("@m", copy.Md5), ("@d", copy.InternalDate is { } d ? StateStore.Iso(d) : null), ("@s", copy.Sender), ("@j", copy.Subject),
            ("@z", copy.Size), ("@t", StateStore.Iso(copy.CopiedAt)));

    public IReadOnlyList<FailoverCopy> Copies(long failoverId) =>
        _store.Query("SELECT server, folder, md5, internal_date, sender, subject, size, copied_at FROM failover_copies WHERE failover_id = @id ORDER BY copied_at, folder, md5", r =>
            new FailoverCopy(r.GetString(0), r.GetString(1), (byte[])r[2], StateStore.ReadTime(r, 3), r.Text(4), r.Text(5), r.GetInt64(6), StateStore.ReadTime(r, 7)!.Value), ("@id", failoverId));

    /// <summary>
    /// Adds a comparison for a server the promotion did not name (an account added since, a server renamed, a replica added):
    /// to the account's promotion to <paramref name="newPrimary"/>, or, for an account that had none, to a new one from the
    /// server the other accounts were promoted away from (<paramref name="oldPrimary"/> when none was), with no failover
    /// point: every message the server holds that the new primary lacks is then copied back, so nothing on it is lost.
    /// </summary>
    public FailoverCheck AddCheck(string account, string server, string newPrimary, string oldPrimary)
    {
        FailoverCheck? check = null;
        _store.InTransaction(() =>
        {
            var id = _store.Query("SELECT id FROM failovers WHERE account = @a AND new_primary = @n ORDER BY id DESC LIMIT 1", r => (long?)r.GetInt64(0),
                ("@a", account), ("@n", newPrimary)).SingleOrDefault();
            if (id is null)
            {
                var from = _store.Query("SELECT old_primary FROM failovers WHERE new_primary = @n ORDER BY id DESC LIMIT 1", r => r.GetString(0), ("@n", newPrimary))
                    .SingleOrDefault() ?? oldPrimary;
                id = _store.Query("INSERT INTO failovers (account, old_primary, new_primary, promoted_at, forced) VALUES (@a, @o, @n, @t, 0) RETURNING id",
                    r => r.GetInt64(0), ("@a", account), ("@o", from), ("@n", newPrimary), ("@t", _store.Now())).Single();
            }
            _store.Execute("INSERT INTO failover_checks (failover_id, server) VALUES (@id, @s) ON CONFLICT DO NOTHING", ("@id", id), ("@s", server));
            check = Check(account, server);
        });
        return check!;
    }

    /// <summary>The copy-back from <paramref name="server"/> is done: from now on it is written to as any replica.</summary>
    public void MarkReconciled(long failoverId, string server) =>
        _store.Execute("UPDATE failover_checks SET reconciled_at = @t WHERE failover_id = @id AND server = @s", ("@t", _store.Now()), ("@id", failoverId), ("@s", server));

    public void RecordDrain(DrainRecord drain) =>
        _store.Execute("INSERT INTO drains (account, replica, drained_at, identical, detail) VALUES (@a, @r, @t, @i, @d) " +
                       "ON CONFLICT (account, replica) DO UPDATE SET drained_at = @t, identical = @i, detail = @d",
            ("@a", drain.Account), ("@r", drain.Replica), ("@t", StateStore.Iso(drain.DrainedAt)), ("@i", drain.Identical ? 1 : 0), ("@d", drain.Detail));

    public IReadOnlyList<DrainRecord> Drains() =>
        _store.Query("SELECT account, replica, drained_at, identical, detail FROM drains ORDER BY account, replica",
            r => new DrainRecord(r.GetString(0), r.GetString(1), StateStore.ReadTime(r, 2)!.Value, r.GetInt64(3) != 0, r.GetString(4)));

    private static FailoverRecord Read(DbDataReader r) =>
        new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), StateStore.ReadTime(r, 4)!.Value, r.GetInt64(5) != 0);
}

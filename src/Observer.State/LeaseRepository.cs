using System.Data.Common;

namespace Observer.State;

/// <summary>One account's lease: who owns it, until when (the database's clock), and its fencing token.</summary>
public sealed record LeaseRecord(string Account, string? Owner, long Token, DateTimeOffset? ExpiresAt, bool Live);

/// <summary>One worker (`observer run`) sharing the state, and whether it renewed in time.</summary>
public sealed record WorkerRecord(string Id, string Host, int Pid, DateTimeOffset StartedAt, DateTimeOffset RenewedAt, bool Live);

/// <summary>
/// Workers and the leases that give each account one owner at a time, on a shared (PostgreSQL) state. Every time is the
/// database's own (now()), so workers on several boxes never compare clocks; a worker also keeps a deadline on its own
/// monotonic clock, shorter than the lease, for the replica writes no database can fence.
/// </summary>
public sealed class LeaseRepository
{
    /// <summary>The channel workers wake each other on when accounts are offered, released or a worker joins.</summary>
    public const string Channel = "observer_leases";

    private readonly StateStore _store;

    internal LeaseRepository(StateStore store) => _store = store;

    private void RequireShared()
    {
        if (!_store.Shared) throw new InvalidOperationException("leases exist only on a shared (PostgreSQL) state");
    }

    /// <summary>Adds this worker and wakes the others, who give up their share's excess for it.</summary>
    public void Join(string worker, string host, int pid, TimeSpan ttl)
    {
        RequireShared();
        _store.InTransaction(() =>
        {
            // Two processes under one name would both take the same accounts for theirs.
            var twin = _store.Query("SELECT host, pid FROM workers WHERE id = @w AND expires_at > now() FOR UPDATE", r => (Host: r.GetString(0), Pid: r.GetInt64(1)), ("@w", worker))
                .Where(w => w.Host != host || w.Pid != pid)
                // A worker of this box that died (restarted by systemd) is no twin, even before its row expires.
                .Where(w => w.Host != host || Processes.IsAlive((int)w.Pid))
                .Select(w => $"pid {w.Pid} on {w.Host}").FirstOrDefault();
            if (twin is not null)
                throw new StateException($"another worker named {worker} is running ({twin}); give each worker its own State:WorkerName, or leave it out for host:pid");
            UpsertWorker(worker, host, pid, ttl);
            // Each statement a command of its own (see StateStore.Statements); the notification goes out at the commit.
            _store.Execute("DELETE FROM workers WHERE expires_at < now() - interval '1 day'");
            Notify();
        });
    }

    private void UpsertWorker(string worker, string host, int pid, TimeSpan ttl) =>
        _store.Execute("INSERT INTO workers (id, host, pid, started_at, renewed_at, expires_at) VALUES (@w, @h, @p, now(), now(), now() + @ttl * interval '1 second') "
            + "ON CONFLICT (id) DO UPDATE SET renewed_at = now(), expires_at = now() + @ttl * interval '1 second'",
            ("@w", worker), ("@h", host), ("@p", (long)pid), ("@ttl", ttl.TotalSeconds));

    /// <summary>Makes sure every account has a lease row to be claimed; wakes the workers when one is new.</summary>
    public int Offer(IReadOnlyCollection<string> accounts)
    {
        RequireShared();
        if (accounts.Count == 0) return 0;
        var added = _store.Execute("INSERT INTO leases (account) SELECT unnest(@a) ON CONFLICT DO NOTHING", ("@a", accounts.ToArray()));
        if (added > 0) Notify();
        return added;
    }

    /// <summary>
    /// Extends this worker's row and those of its leases it holds under the tokens it claimed (<paramref name="held"/>,
    /// account → token); returns them. A lease that expired but that nobody claimed since is still this worker's, under
    /// the same token: nobody else wrote for it. One under another token (another process under the same name) is not touched.
    /// </summary>
    public Dictionary<string, long> Renew(string worker, string host, int pid, TimeSpan ttl, IReadOnlyDictionary<string, long> held)
    {
        RequireShared();
        var renewed = new Dictionary<string, long>(StringComparer.Ordinal);
        _store.InTransaction(() =>
        {
            UpsertWorker(worker, host, pid, ttl);
            if (held.Count == 0) return;
            foreach (var (account, token) in _store.Query(
                         "UPDATE leases l SET expires_at = now() + @ttl * interval '1 second' FROM unnest(@a, @t) AS m(account, token) "
                         + "WHERE l.owner = @w AND l.account = m.account AND l.token = m.token RETURNING l.account, l.token",
                         r => (r.GetString(0), r.GetInt64(1)), ("@w", worker), ("@ttl", ttl.TotalSeconds), ("@a", held.Keys.ToArray()), ("@t", held.Values.ToArray())))
                renewed[account] = token;
        });
        return renewed;
    }

    /// <summary>How many workers renewed in time, this one included.</summary>
    public int LiveWorkers()
    {
        RequireShared();
        return (int)_store.Query("SELECT COUNT(*) FROM workers WHERE expires_at > now()", r => r.GetInt64(0)).Single();
    }

    /// <summary>
    /// Claims up to <paramref name="count"/> of <paramref name="accounts"/> that nobody owns or whose owner let the lease
    /// expire, each with a new token. Rows another worker is claiming at the same moment are skipped, not waited for.
    /// </summary>
    public Dictionary<string, long> Claim(string worker, IReadOnlyCollection<string> accounts, int count, TimeSpan ttl)
    {
        RequireShared();
        if (count <= 0 || accounts.Count == 0) return new(StringComparer.Ordinal);
        return _store.Query(
                "UPDATE leases SET owner = @w, token = token + 1, expires_at = now() + @ttl * interval '1 second', claimed_at = now() "
                // Never this worker's own: one that expired unclaimed is renewed under its token, not claimed anew.
                + "WHERE account IN (SELECT account FROM leases WHERE account = ANY(@a) AND owner IS DISTINCT FROM @w AND (owner IS NULL OR expires_at IS NULL OR expires_at < now()) "
                + "ORDER BY account LIMIT @n FOR UPDATE SKIP LOCKED) RETURNING account, token",
                r => (Account: r.GetString(0), Token: r.GetInt64(1)), ("@w", worker), ("@a", accounts.ToArray()), ("@n", (long)count), ("@ttl", ttl.TotalSeconds))
            .ToDictionary(l => l.Account, l => l.Token, StringComparer.Ordinal);
    }

    /// <summary>Gives up these leases (after their work stopped) and wakes the other workers to claim them.</summary>
    public void Release(string worker, IReadOnlyCollection<string> accounts)
    {
        RequireShared();
        if (accounts.Count == 0) return;
        _store.InTransaction(() =>
        {
            _store.Execute("UPDATE leases SET owner = NULL, expires_at = NULL WHERE owner = @w AND account = ANY(@a)", ("@w", worker), ("@a", accounts.ToArray()));
            Notify();
        });
    }

    /// <summary>Leaves: every lease given up and the worker's row removed, so the others take its accounts at once.</summary>
    public void Leave(string worker)
    {
        RequireShared();
        _store.InTransaction(() =>
        {
            _store.Execute("UPDATE leases SET owner = NULL, expires_at = NULL WHERE owner = @w", ("@w", worker));
            _store.Execute("DELETE FROM workers WHERE id = @w", ("@w", worker));
            Notify();
        });
    }

    /// <summary>Drops the lease row of an account taken out of the settings (`observer forget`), unless a live worker holds it.</summary>
    public void Forget(string account) =>
        _store.Execute("DELETE FROM leases WHERE account = @a AND (owner IS NULL OR expires_at IS NULL OR expires_at < now())", ("@a", account));

    public void Notify() => _store.Execute("NOTIFY " + Channel);

    public IReadOnlyList<LeaseRecord> All() => !_store.Shared ? [] :
        _store.Query("SELECT account, owner, token, expires_at, COALESCE(expires_at > now(), false) FROM leases ORDER BY account",
            r => new LeaseRecord(r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetInt64(2),
                r.IsDBNull(3) ? null : r.GetFieldValue<DateTimeOffset>(3), r.GetBoolean(4)));

    public IReadOnlyList<WorkerRecord> Workers() => !_store.Shared ? [] :
        _store.Query("SELECT id, host, pid, started_at, renewed_at, expires_at > now() FROM workers ORDER BY id",
            r => new WorkerRecord(r.GetString(0), r.GetString(1), (int)r.GetInt64(2), r.GetFieldValue<DateTimeOffset>(3), r.GetFieldValue<DateTimeOffset>(4), r.GetBoolean(5)));

    /// <summary>
    /// In the caller's transaction, before a journal write: the lease on the replica's account must be this worker's,
    /// live, under the token it claimed. The row is locked until the transaction ends, so no claim slips in between.
    /// Returns the token to record, or null when the state is not shared.
    /// </summary>
    internal long? Fence(long replicaId)
    {
        if (_store.Fence is not { } fence) return null;
        var row = _store.Query(
            "SELECT r.account, l.owner, l.token, COALESCE(l.expires_at > now(), false) FROM replicas r JOIN leases l ON l.account = r.account WHERE r.id = @r FOR SHARE OF l",
            r => (Account: r.GetString(0), Owner: r.IsDBNull(1) ? null : r.GetString(1), Token: r.GetInt64(2), Live: r.GetBoolean(3)), ("@r", replicaId)).SingleOrDefault();
        if (row.Account is null)
        {
            var account = _store.Query("SELECT account FROM replicas WHERE id = @r", r => r.GetString(0), ("@r", replicaId)).SingleOrDefault() ?? "";
            throw new LeaseLostException(account, "no lease row");
        }
        var mine = fence.TokenOf(row.Account);
        if (row.Owner != fence.Worker) throw new LeaseLostException(row.Account, row.Owner is null ? "released" : $"now owned by {row.Owner}");
        if (mine is null) throw new LeaseLostException(row.Account, "this worker's own deadline passed before it could renew");
        if (mine != row.Token) throw new LeaseLostException(row.Account, $"claimed again since, token {row.Token} against this worker's {mine}");
        if (!row.Live) throw new LeaseLostException(row.Account, "expired");
        return row.Token;
    }

    /// <summary>Whether this worker holds the live lease on the replica's account (no fence: always).</summary>
    internal bool HeldHere(long replicaId) => _store.Fence is not { } fence || _store.Query(
        "SELECT 1 FROM leases l JOIN replicas r ON r.account = l.account WHERE r.id = @r AND l.owner = @me AND l.expires_at > now()",
        r => 1, ("@r", replicaId), ("@me", fence.Worker)).Count > 0;

    /// <summary>The replica of journal entry <paramref name="id"/>, to fence its completion.</summary>
    internal long? ReplicaOfEntry(long id) =>
        _store.Query("SELECT replica_id FROM journal WHERE id = @id", r => r.GetInt64(0), ("@id", id)).Select(v => (long?)v).SingleOrDefault();
}

using Microsoft.Extensions.Logging;
using Observer.State;

namespace Observer.Hosting;

/// <summary>
/// A worker's leases on a shared state: it joins, claims its fair share of the accounts (their number over the live
/// workers, rounded up), renews what it holds, gives back what is over its share when others join, and takes what
/// a dead worker left once its lease ran out. It is the fence the journal and the replica sessions check.
/// <para>
/// Timing, from <see cref="StateOptions.LeaseTime"/> (T): a lease lasts T/2 in the database and is renewed every T/6, and
/// the workers look for leases to claim every T/12, so a dead worker's accounts are claimed within about 7T/12, well
/// inside T. This worker stops writing for an account T/3 after its
/// last successful renewal began, by its own monotonic clock: before the lease can expire and another worker own it.
/// </para>
/// </summary>
public sealed class LeaseKeeper : ILeaseFence, IDisposable
{
    private readonly StateStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _leaseTime;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (long Token, long Deadline)> _held = new(StringComparer.Ordinal);
    private bool _unreachable;

    /// <param name="store">A store of its own on the shared state (its own connection), disposed with the keeper.</param>
    public LeaseKeeper(StateStore store, string? name, TimeSpan leaseTime, TimeProvider time, ILogger logger)
    {
        (_store, _time, _logger, _leaseTime) = (store, time, logger, leaseTime);
        Worker = string.IsNullOrWhiteSpace(name) ? $"{Environment.MachineName}:{Environment.ProcessId}" : name.Trim();
    }

    public string Worker { get; }

    /// <summary>The workers that renewed in time at the last round, this one included.</summary>
    public int Workers { get; private set; } = 1;

    /// <summary>How long a lease lasts in the database past its last renewal.</summary>
    public TimeSpan Expiry => _leaseTime / 2;

    /// <summary>How often leases are renewed and the share looked at again, when no signal comes first.</summary>
    public TimeSpan RenewEvery => _leaseTime / 6;

    /// <summary>How long after a renewal began this worker still writes, by its own clock.</summary>
    private TimeSpan WritesFor => _leaseTime / 3;

    /// <summary>How often the share is looked at again when no worker signals: how soon a dead worker's expired leases are seen.</summary>
    public TimeSpan LookEvery => _leaseTime / 12;

    public long? TokenOf(string account)
    {
        lock (_gate) return _held.TryGetValue(account, out var lease) && _time.GetTimestamp() < lease.Deadline ? lease.Token : null;
    }

    /// <summary>
    /// Before a write to either server: how long this worker may still write for the account, by its own clock; throws
    /// once it holds no lease on it or its deadline has passed. A write still running then is cut off (<see cref="FencedMailSession"/>).
    /// </summary>
    public TimeSpan Remaining(string account)
    {
        lock (_gate)
        {
            if (!_held.TryGetValue(account, out var lease)) throw new LeaseLostException(account, "not held by this worker");
            var left = _time.GetElapsedTime(_time.GetTimestamp(), lease.Deadline);
            return left > TimeSpan.Zero ? left : throw new LeaseLostException(account, "not renewed in time");
        }
    }

    /// <summary>The accounts this worker runs now: those it holds, but not those it is giving back.</summary>
    public IReadOnlySet<string> Held
    {
        get { lock (_gate) return _held.Keys.Where(a => !_releasing.Contains(a)).ToHashSet(StringComparer.Ordinal); }
    }

    /// <summary>Accounts being given back: still fenced as this worker's until their work has stopped and the database let them go.</summary>
    private readonly HashSet<string> _releasing = new(StringComparer.Ordinal);

    /// <summary>A database call and what is recorded of its answer, one at a time: a renewal read before a claim or a release must not undo it.</summary>
    private readonly Lock _calls = new();

    /// <summary>Called when a renewal finds leases lost, so that their work is stopped at once rather than at the next round.</summary>
    public Action? Lost { get; set; }

    /// <summary>
    /// Extends the leases this worker holds, on its own loop every <see cref="RenewEvery"/> and its own connection: never
    /// held up by accounts being stopped or started, nor by their statements. Only leases under the tokens this process
    /// claimed are renewed, so another process under the same name cannot renew them too. One another worker claimed
    /// meanwhile is dropped.
    /// </summary>
    public void Renew()
    {
        bool lost;
        try
        {
            lock (_calls)
            {
                var started = _time.GetTimestamp();
                Dictionary<string, long> mine;
                lock (_gate) mine = _held.ToDictionary(l => l.Key, l => l.Value.Token, StringComparer.Ordinal);
                var renewed = _store.Leases.Renew(Worker, Environment.MachineName, Environment.ProcessId, Expiry, mine);
                lost = Record(renewed, started, replace: true);
            }
            if (_unreachable) _logger.LogInformation("the state database answers again; this worker holds {Count} accounts", Held.Count);
            _unreachable = false;
        }
        catch (StateUnavailableException ex)
        {
            // Leases run out on their own clock meanwhile; the fence stops writes then, and the next renewal that works renews them.
            if (!_unreachable) _logger.LogWarning("cannot renew this worker's leases: {Reason}; it stops writing for its accounts if this lasts over {Seconds:0} s", ex.Message, WritesFor.TotalSeconds);
            _unreachable = true;
            return;
        }
        if (lost) Lost?.Invoke();
    }

    /// <summary>
    /// One round toward the fair share: give back what is over it (<paramref name="stop"/> stops that work first, fenced as
    /// this worker's until then, and only then does the database hear of it), or claim what is missing. Returns the accounts to run.
    /// </summary>
    public async Task<IReadOnlySet<string>> RoundAsync(IReadOnlyCollection<string> accounts, Func<IReadOnlySet<string>, Task> stop)
    {
        try
        {
            int fair;
            HashSet<string> extra;
            lock (_calls)
            {
                _store.Leases.Offer(accounts);
                Workers = Math.Max(1, _store.Leases.LiveWorkers());
                fair = (int)Math.Ceiling(accounts.Count / (double)Workers);
                var held = Held;
                var mine = held.Where(accounts.Contains).ToList();
                // Accounts no longer in the settings are let go at once; over the share, the last ones by name.
                extra = held.Except(mine).Concat(mine.Order(StringComparer.Ordinal).Skip(fair)).ToHashSet(StringComparer.Ordinal);
                lock (_gate) _releasing.UnionWith(extra);
                int releasing;
                lock (_gate) releasing = _releasing.Count;
                var want = fair - (held.Count - extra.Count) - (releasing - extra.Count);
                if (want > 0)
                {
                    var started = _time.GetTimestamp();
                    var claimed = _store.Leases.Claim(Worker, accounts, want, Expiry);
                    Record(claimed, started, replace: false);
                    if (claimed.Count > 0) _logger.LogInformation("took the lease on {Count} accounts: {Accounts}", claimed.Count, Summary(claimed.Keys));
                }
            }
            if (extra.Count > 0) await GiveBackAsync(extra, fair, stop).ConfigureAwait(false);
        }
        catch (StateUnavailableException)
        {
            // The renewal loop says so; the next round tries again.
        }
        return Held;
    }

    private async Task GiveBackAsync(HashSet<string> extra, int fair, Func<IReadOnlySet<string>, Task> stop)
    {
        try
        {
            await stop(extra).ConfigureAwait(false);
            lock (_calls)
            {
                _store.Leases.Release(Worker, extra);
                lock (_gate)
                    foreach (var account in extra) _held.Remove(account);
            }
            _logger.LogInformation("gave {Count} accounts back for other workers to take (this worker's share is {Fair})", extra.Count, fair);
        }
        finally
        {
            // Not released (the database out of reach): they stay this worker's until they expire, and the others take them then.
            lock (_gate) _releasing.ExceptWith(extra);
        }
    }

    /// <summary>Records leases with their write deadline; with <paramref name="replace"/>, those missing are lost. Returns whether any were.</summary>
    private bool Record(Dictionary<string, long> leases, long renewalStarted, bool replace)
    {
        var deadline = renewalStarted + (long)(WritesFor.TotalSeconds * _time.TimestampFrequency);
        var lost = false;
        lock (_gate)
        {
            if (replace)
                foreach (var gone in _held.Keys.Where(a => !leases.ContainsKey(a)).ToList())
                {
                    _held.Remove(gone);
                    _releasing.Remove(gone);
                    lost = true;
                    _logger.LogWarning("lost the lease on account {Account} (another worker took it while this one was not renewing)", gone);
                }
            foreach (var (account, token) in leases) _held[account] = (token, deadline);
        }
        return lost;
    }

    private static string Summary(IEnumerable<string> accounts)
    {
        var list = accounts.Order(StringComparer.Ordinal).ToList();
        return list.Count <= 5 ? string.Join(", ", list) : $"{string.Join(", ", list.Take(5))} and {list.Count - 5} more";
    }

    /// <summary>Joins the workers, with no lease yet.</summary>
    public void Join() => _store.Leases.Join(Worker, Environment.MachineName, Environment.ProcessId, Expiry);

    /// <summary>Leaves at a clean stop: every lease given back at once, after the accounts' work stopped.</summary>
    public void Leave()
    {
        lock (_gate) _held.Clear();
        try
        {
            _store.Leases.Leave(Worker);
        }
        catch (StateUnavailableException ex)
        {
            _logger.LogWarning("could not give the leases back: {Reason}; the other workers take them when they expire", ex.Message);
        }
    }

    public void Dispose() => _store.Dispose();
}

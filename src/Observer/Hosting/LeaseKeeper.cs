using Microsoft.Extensions.Logging;
using Observer.State;

namespace Observer.Hosting;

/// <summary>
/// A worker's leases on a shared state: it joins, claims its fair share of the accounts (their number over the live
/// workers, rounded up), renews what it holds, gives back what is over its share when others join, and takes what
/// a dead worker left once its lease ran out. It is the fence the journal and the replica sessions check.
/// <para>
/// Timing, from <see cref="StateOptions.LeaseTime"/> (T): a lease lasts 2T/3 in the database and is renewed every T/6,
/// so a dead worker's accounts are claimed within about 5T/6. This worker stops writing for an account T/2 after its
/// last successful renewal began, by its own monotonic clock: before the lease can expire and another worker own it.
/// </para>
/// </summary>
public sealed class LeaseKeeper : ILeaseFence
{
    private readonly StateStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _leaseTime;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (long Token, long Deadline)> _held = new(StringComparer.Ordinal);
    private bool _unreachable;

    public LeaseKeeper(StateStore store, string? name, TimeSpan leaseTime, TimeProvider time, ILogger logger)
    {
        (_store, _time, _logger, _leaseTime) = (store, time, logger, leaseTime);
        Worker = string.IsNullOrWhiteSpace(name) ? $"{Environment.MachineName}:{Environment.ProcessId}" : name.Trim();
    }

    public string Worker { get; }

    /// <summary>The workers that renewed in time at the last round, this one included.</summary>
    public int Workers { get; private set; } = 1;

    /// <summary>How long a lease lasts in the database past its last renewal.</summary>
    public TimeSpan Expiry => _leaseTime * 2 / 3;

    /// <summary>How often leases are renewed and the share looked at again, when no signal comes first.</summary>
    public TimeSpan RenewEvery => _leaseTime / 6;

    /// <summary>How long after a renewal began this worker still writes, by its own clock.</summary>
    private TimeSpan WritesFor => _leaseTime / 2;

    public long? TokenOf(string account)
    {
        lock (_gate) return _held.TryGetValue(account, out var lease) && _time.GetTimestamp() < lease.Deadline ? lease.Token : null;
    }

    /// <summary>Before a replica write: throws unless this worker holds the account's lease and its deadline has not passed.</summary>
    public void EnsureHeld(string account)
    {
        lock (_gate)
        {
            if (!_held.TryGetValue(account, out var lease)) throw new LeaseLostException(account, "not held by this worker");
            if (_time.GetTimestamp() >= lease.Deadline) throw new LeaseLostException(account, "not renewed in time");
        }
    }

    /// <summary>The accounts this worker holds now.</summary>
    public IReadOnlySet<string> Held
    {
        get { lock (_gate) return _held.Keys.ToHashSet(StringComparer.Ordinal); }
    }

    /// <summary>
    /// One round: renew, then release or claim toward the fair share. <paramref name="stop"/> stops the work of accounts
    /// this worker gives back, before the database hears of it; returns the accounts held afterwards.
    /// </summary>
    public async Task<IReadOnlySet<string>> RoundAsync(IReadOnlyCollection<string> accounts, Func<IReadOnlySet<string>, Task> stop)
    {
        try
        {
            var started = _time.GetTimestamp();
            var renewed = _store.Leases.Renew(Worker, Environment.MachineName, Environment.ProcessId, Expiry);
            Record(renewed, started, replace: true);
            _store.Leases.Offer(accounts);
            Workers = Math.Max(1, _store.Leases.LiveWorkers());
            var fair = (int)Math.Ceiling(accounts.Count / (double)Workers);
            var mine = renewed.Keys.Where(accounts.Contains).ToList();
            // Accounts no longer in the settings are let go at once; over the share, the last ones by name.
            var extra = renewed.Keys.Except(mine).Concat(mine.Order(StringComparer.Ordinal).Skip(fair)).ToHashSet(StringComparer.Ordinal);
            if (extra.Count > 0)
            {
                lock (_gate)
                    foreach (var account in extra) _held.Remove(account);
                await stop(extra).ConfigureAwait(false);
                _store.Leases.Release(Worker, extra);
                _logger.LogInformation("gave {Count} accounts back for other workers to take (this worker's share is {Fair})", extra.Count, fair);
            }
            var want = fair - (mine.Count - extra.Count(mine.Contains));
            if (want > 0)
            {
                started = _time.GetTimestamp();
                var claimed = _store.Leases.Claim(Worker, accounts, want, Expiry);
                Record(claimed, started, replace: false);
                if (claimed.Count > 0) _logger.LogInformation("took the lease on {Count} accounts: {Accounts}", claimed.Count, Summary(claimed.Keys));
            }
            if (_unreachable) _logger.LogInformation("the state database answers again; this worker holds {Count} accounts", Held.Count);
            _unreachable = false;
        }
        catch (StateUnavailableException ex)
        {
            // Leases run out on their own clock meanwhile; the fence stops writes then, and the next round renews.
            if (!_unreachable) _logger.LogWarning("cannot renew this worker's leases: {Reason}; it stops writing for its accounts if this lasts over {Seconds:0} s", ex.Message, WritesFor.TotalSeconds);
            _unreachable = true;
        }
        return Held;
    }

    private void Record(Dictionary<string, long> leases, long renewalStarted, bool replace)
    {
        var deadline = renewalStarted + (long)(WritesFor.TotalSeconds * _time.TimestampFrequency);
        lock (_gate)
        {
            if (replace)
                foreach (var lost in _held.Keys.Where(a => !leases.ContainsKey(a)).ToList())
                {
                    _held.Remove(lost);
                    _logger.LogWarning("lost the lease on account {Account} (another worker took it while this one was not renewing)", lost);
                }
            foreach (var (account, token) in leases) _held[account] = (token, deadline);
        }
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
}

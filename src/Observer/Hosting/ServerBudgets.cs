using System.Collections.Concurrent;
using Observer.Replication;

namespace Observer.Hosting;

/// <summary>
/// One connection budget per server, shared by every account that uses it: accounts usually share the
/// top-level servers, and one that overrides a host counts against that host's own budget. The primary
/// and the replica side are counted apart even when they are the same server, so that a pass holding a
/// primary connection never waits for a replica connection in the same budget.
/// </summary>
/// <param name="minimum">The least a worker's share may fall to: what one account needs, so that it can always make progress.</param>
internal sealed class ServerBudgets(int limit, int minimum)
{
    private readonly ConcurrentDictionary<string, ConnectionBudget> _budgets = new(StringComparer.OrdinalIgnoreCase);
    private volatile int _workers = 1;

    /// <summary>This worker's share of each server's budget, when <see cref="Share"/> says how many workers split it.</summary>
    public int Limit => Math.Max(Math.Min(minimum, limit), limit / _workers);

    public ConnectionBudget For(string side, EndpointOptions server)
    {
        var key = $"{side} {server.Host}:{server.EffectivePort}";
        return _budgets.GetOrAdd(key, _ => new ConnectionBudget(Limit));
    }

    /// <summary>Workers sharing a state split every server's budget evenly; a worker joining or leaving changes each share.</summary>
    public void Share(int workers)
    {
        _workers = Math.Max(1, workers);
        foreach (var budget in _budgets.Values) budget.Resize(Limit);
    }
}

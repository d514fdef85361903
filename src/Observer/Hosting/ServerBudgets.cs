using System.Collections.Concurrent;
using Observer.Replication;

namespace Observer.Hosting;

/// <summary>
/// One connection budget per server, shared by every account that uses it: accounts usually share the
/// top-level servers, and one that overrides a host counts against that host's own budget. The primary
/// and the replica side are counted apart even when they are the same server, so that a pass holding a
/// primary connection never waits for a replica connection in the same budget.
/// </summary>
internal sealed class ServerBudgets(int limit)
{
    private readonly ConcurrentDictionary<string, ConnectionBudget> _budgets = new(StringComparer.OrdinalIgnoreCase);

    public ConnectionBudget For(string side, EndpointOptions server)
    {
        var key = $"{side} {server.Host}:{server.EffectivePort}";
        return _budgets.GetOrAdd(key, _ => new ConnectionBudget(limit));
    }
}

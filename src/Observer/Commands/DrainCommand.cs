using Observer.Hosting;
using Observer.Replication;
using Observer.State;

namespace Observer.Commands;

/// <summary>
/// `observer drain`: brings each replica to zero lag, compares every message, and records the outcome in the state. Exit 0
/// when a mirror is identical to the primary for every account, and it says which: the replica that is safe to switch to.
/// </summary>
public static class DrainCommand
{
    /// <param name="some">Whether --account or --replica narrowed the drain: what is safe is then said of the units drained only.</param>
    public static async Task<int> RunAsync(IReadOnlyList<AccountEngine> units, string primary, bool some, TextWriter output, CancellationToken cancellationToken)
    {
        var outcomes = await EachAsync(units, output, cancellationToken);
        var verdicts = outcomes.GroupBy(o => o.Unit.Engine.Replica).Select(g => (Replica: g.Key, Identical: g.All(o => o.Drain?.Identical == true))).ToList();
        var safe = verdicts.Where(v => v.Replica.Policy == ReplicaPolicy.Mirror && v.Identical).Select(v => v.Replica.Name).ToList();
        foreach (var (replica, identical) in verdicts.Where(v => v.Replica.Policy != ReplicaPolicy.Mirror))
            await output.WriteLineAsync($"drain: {replica.Name} is {(replica.Policy == ReplicaPolicy.Archive ? "an archive" : "a delayed replica")} and holds mail {primary} deleted: never a failover target");
        await output.WriteLineAsync(safe.Count > 0
            ? $"drain: {string.Join(" and ", safe)} {(safe.Count == 1 ? "is" : "are")} identical to {primary}" + (some
                ? " for what was drained; a promotion covers every account, so drain them all before one"
                : $": safe to switch to (observer promote {safe[0]})")
            : $"drain: no mirror is identical to {primary}; mail that reaches {primary} now is not on any of them (see above)");
        return safe.Count > 0 ? 0 : 1;
    }

    /// <summary>Drains each unit in turn; one that fails (a server down) is reported in one line and the next goes on.</summary>
    internal static async Task<List<(AccountEngine Unit, DrainRecord? Drain)>> EachAsync(IReadOnlyList<AccountEngine> units, TextWriter output, CancellationToken cancellationToken)
    {
        var outcomes = new List<(AccountEngine, DrainRecord?)>();
        foreach (var unit in units)
        {
            var label = unit.Name.Length == 0 ? $"replica {unit.Engine.Replica.Name}" : $"account {unit.Name} on replica {unit.Engine.Replica.Name}";
            try
            {
                var drain = await unit.Engine.DrainAsync(cancellationToken);
                await output.WriteLineAsync($"{label}: {drain.Detail}");
                outcomes.Add((unit, drain));
            }
            catch (Exception ex) when (ObserverErrors.IsUserFacing(ex) && ex is not StateException)
            {
                await output.WriteLineAsync($"{label}: FAILED: {ex.Message.ReplaceLineEndings(" ")}");
                outcomes.Add((unit, null));
            }
        }
        return outcomes;
    }
}

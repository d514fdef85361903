using Observer.Cli;
using Observer.Configuration;
using Observer.Hosting;
using Observer.Replication;
using Observer.State;

namespace Observer.Commands;

/// <summary>
/// `observer promote NAME [--force]`: from now on replica NAME is the primary for replication, and the old primary a mirror of it.
/// Soft (without --force), NAME must first be drained to identical, for every account. The promotion records each account's
/// failover point and drops the replicas' maps (each now follows another server); the old primary and the other mirrors are
/// compared with the new primary, and what only they hold is copied back, before anything is written to them.
/// </summary>
public static class PromoteCommand
{
    public static async Task<int> RunAsync(ObserverOptions options, AccountEngines engines, StateStore store, string name, bool force, TextWriter output,
        CancellationToken cancellationToken)
    {
        var current = options.CurrentPrimaryName;
        if (options.ConfiguredReplicaNames.Contains(options.Replication.PrimaryName, StringComparer.OrdinalIgnoreCase))
            throw new ConfigurationProblemException(ObserverOptionsValidator.PrimaryNameTaken(options.Replication.PrimaryName));
        if (name.Equals(current, StringComparison.OrdinalIgnoreCase))
            throw new UsageException($"promote {name}: {current} is the primary already; `observer status` lists the replicas");
        var target = options.ReplicaNames.FirstOrDefault(n => n.Equals(name, StringComparison.OrdinalIgnoreCase))
            ?? throw new UsageException($"promote {name}: no such replica; the primary is {current} and the replicas are {string.Join(", ", options.ReplicaNames)}");
        var units = engines.All.Where(u => u.Engine.Replica.Name == target).ToList();
        if (units.Count == 0)
            throw new UsageException($"promote {target}: the settings name no accounts yet; add them to Accounts or the AccountsFile");
        if (units[0].Engine.Replica.Policy != ReplicaPolicy.Mirror)
            throw new UsageException($"promote {target}: it is {(units[0].Engine.Replica.Policy == ReplicaPolicy.Archive ? "an archive" : "a delayed replica")}, which holds mail {current} deleted; only a mirror can become the primary");

        if (!force)
        {
            var drained = await DrainCommand.EachAsync(units, output, cancellationToken);
            if (drained.Any(d => d.Drain?.Identical != true))
            {
                await output.WriteLineAsync($"promote: nothing changed: {target} does not match {current} yet (above). Stop the mail flow to {current} and run `observer drain`; " +
                                            $"if {current} is lost, `observer promote {target} --force`");
                return 1;
            }
        }

        var accounts = options.EffectiveAccounts.Select(a => a.Name).ToList();
        var points = accounts.ToDictionary(a => a, a => store.Replicas.Find(target, a)?.Id);
        foreach (var account in points.Where(p => p.Value is null).Select(p => p.Key))
            await output.WriteLineAsync($"promote: {(account.Length > 0 ? $"account {account}: " : "")}{target} was never replicated to, so there is no failover point: " +
                                        $"every message {current} holds that {target} lacks will be copied back to {target}, including any deleted on {target} since");
        var mirrors = engines.All.Select(u => u.Engine.Replica).Where(r => r.Name != target && r.Policy == ReplicaPolicy.Mirror).Select(r => r.Name);
        var compared = mirrors.Prepend(current).Distinct().ToList();
        store.Failovers.Promote(current, target, target == options.Replication.PrimaryName ? null : target, force, points, compared);

        var followers = options.ReplicaNames.Where(n => n != target).Prepend(current).Distinct();
        await output.WriteLineAsync($"promote: {target} is the primary now{(force ? " (forced)" : "")}; {current} is a mirror of it, beside {string.Join(", ", followers.Where(f => f != current).DefaultIfEmpty("no other replica"))}");
        await output.WriteLineAsync($"promote: before anything is written to {string.Join(" or ", compared)}, what it holds that {target} lacks is copied back to {target}; " +
                                    "`observer report split-brain` shows what differs; start the service again (observer run)");
        return 0;
    }
}

using Observer.Cli;
using Observer.Configuration;
using Observer.Hosting;
using Observer.Monitoring;
using Observer.Replication;
using Observer.State;

namespace Observer.Commands;

/// <summary>
/// `observer retry [FOLDER...]`: ends the backoff of folders in trouble, after the admin fixed the cause (a quota
/// raised, a permission granted). It only moves their next attempt to now in the state; a running service tries
/// them within seconds, and without one the next `observer sync` does.
/// </summary>
public static class RetryCommand
{
    public static async Task<int> RunAsync(ObserverOptions options, string? account, string? replicaName, IReadOnlyList<string> folders, TimeProvider time, TextWriter output)
    {
        if (account is not null) account = AccountEngines.Named(account, options.EffectiveAccounts.Select(a => a.Name), options.HasAccountList);
        if (replicaName is not null) replicaName = AccountEngines.NamedReplica(replicaName, options.ReplicaNames, options.NamesReplicas);
        if (!options.State.Location.MayExist)
        {
            await output.WriteLineAsync($"retry: no state database at {options.State.Describe}, so no folder is in trouble");
            return 0;
        }
        using var store = StateStore.Open(options.State.Location, time);
        var troubled = options.Units
            .Where(u => (account is null || u.Name == account) && (replicaName is null || u.Target.Name == replicaName))
            .Select(u => store.Replicas.Find(u.Target.Name, u.Name)).OfType<ReplicaRecord>()
            .Select(r => (Replica: r, Troubles: store.Troubles.All(r.Id))).Where(r => r.Troubles.Count > 0).ToList();
        if (troubled.Count == 0)
        {
            await output.WriteLineAsync("retry: no folder is in trouble; nothing to retry");
            return 0;
        }
        var unknown = folders.Where(f => troubled.All(r => r.Troubles.All(t => t.Folder != f))).ToList();
        if (unknown.Count > 0)
            throw new UsageException($"no folder in trouble named {string.Join(", ", unknown.Select(f => $"'{f}'"))}; in trouble now: " +
                                     string.Join(", ", troubled.SelectMany(r => r.Troubles.Select(t => t.Folder)).Distinct()));
        var retried = 0;
        store.InTransaction(() => retried = troubled.Sum(r => folders.Count == 0
            ? store.Troubles.RetryNow(r.Replica.Id, null)
            : folders.Sum(f => store.Troubles.RetryNow(r.Replica.Id, f))));
        var service = ServiceFacts.Read(store, time.GetUtcNow(), options.State.Location.Shared ? null : options.State.Path);
        await output.WriteLineAsync($"retry: {Counted.Of(retried, "folder")} due now; "
            + (service.Running ? "the running service tries them within seconds (a polled account at its next poll)" : "run `observer sync` (or start `observer run`) to try them"));
        return 0;
    }
}

using Observer.Cli;
using Observer.Configuration;
using Observer.Hosting;
using Observer.State;

namespace Observer.Commands;

/// <summary>
/// `observer approve FOLDER... | --all`: lets deletions the delete guard held back go ahead. It only
/// marks the holds approved in the state database; a running service applies them within seconds,
/// and without one the next `observer sync` does.
/// </summary>
public static class ApproveCommand
{
    /// <param name="folders">The primary folder names to approve; null approves every hold.</param>
    public static async Task<int> RunAsync(Func<StateStore> openStore, ObserverOptions options, string? account, IReadOnlyList<string>? folders, TextWriter output,
        string? replicaName = null)
    {
        var configured = options.EffectiveAccounts.Select(a => a.Name);
        // Folder names repeat from one account to the next, so a hold is approved within one named account.
        if (account is null && options.HasAccountList)
            throw new UsageException($"approve: name the account whose deletions to approve with --account NAME; the accounts are {string.Join(", ", configured)}");
        account = account is null ? "" : AccountEngines.Named(account, configured, options.HasAccountList);
        // And each replica holds its own.
        var replicas = options.Units.Select(u => u.Target.Name).Distinct().ToList();
        if (replicaName is null && replicas.Count > 1)
            throw new UsageException($"approve: name the replica whose deletions to approve with --replica NAME; the replicas are {string.Join(", ", replicas)}");
        replicaName = replicaName is null ? replicas[0] : AccountEngines.NamedReplica(replicaName, options.ReplicaNames, options.NamesReplicas);
        var store = openStore();
        var replica = store.Replicas.Find(replicaName, account);
        var holds = replica is null ? [] : store.Holds.All(replica.Id);
        if (replica is null || holds.Count == 0)
        {
            await output.WriteLineAsync("approve: nothing is held; `observer status` lists held deletions when there are any");
            return 0;
        }
        var unknown = folders?.Where(f => holds.All(h => h.Folder != f)).ToList() ?? [];
        if (unknown.Count > 0)
            throw new UsageException($"no held deletions for {string.Join(", ", unknown.Select(f => $"'{f}'"))}; held now: {string.Join(", ", holds.Select(h => h.Folder).Distinct())}");
        var approved = folders is null ? store.Holds.Approve(replica.Id, null) : folders.Sum(f => store.Holds.Approve(replica.Id, f));
        var service = store.Service.Get(replica.Id);
        var running = service?.HeartbeatAt is { } beat && DateTimeOffset.UtcNow - beat < TimeSpan.FromSeconds(30) && service.PrimaryState != "stopped";
        await output.WriteLineAsync($"approve: {approved} held deletion{(approved == 1 ? "" : "s")} approved; "
            + (running ? "the running service applies them within seconds" : "run `observer sync` (or start `observer run`) to apply them"));
        return 0;
    }
}

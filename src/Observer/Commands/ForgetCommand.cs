using Observer.Replication;
using Observer.Cli;
using Observer.Configuration;
using Observer.Hosting;
using Observer.Monitoring;
using Observer.State;

namespace Observer.Commands;

/// <summary>
/// `observer forget ACCOUNT`: deletes what the state knows of an account taken out of the settings. Until then its
/// maps are kept, so an account put back is taken up where it was. Nothing on either server is touched.
/// </summary>
public static class ForgetCommand
{
    public static async Task<int> RunAsync(ObserverOptions options, string account, TimeProvider time, TextWriter output)
    {
        // Names are matched exactly, as the state keeps them: "" is the one account of settings without an Accounts list.
        if (options.EffectiveAccounts.FirstOrDefault(a => a.Name == account) is { } configured)
            throw new UsageException(account.Length == 0
                ? "these settings have no Accounts list, so their one account is still replicated; forget \"\" only after moving to a list"
                : $"account {configured.Name} is still in the settings ({configured.Key}); take it out of the settings first, or its state is only built again");
        if (!options.State.Location.MayExist)
            throw new UsageException($"there is no state database at {options.State.Describe}, so nothing to forget");
        using var store = StateStore.Open(options.State.Location, time);
        var all = store.Replicas.All();
        var replicas = all.Where(r => r.Account == account).ToList();
        if (replicas.Count == 0)
        {
            var near = all.Select(r => r.Account).FirstOrDefault(a => a.Equals(account, StringComparison.OrdinalIgnoreCase));
            throw new UsageException(near is not null
                ? $"the state holds no account named '{account}', but one named '{near}'; names are matched exactly"
                : $"the state holds no account named '{account}'; `observer status` lists the accounts it holds");
        }
        var now = time.GetUtcNow();
        // A service not yet reloaded still writes for it: its rows would be pulled from under it.
        if (replicas.Any(r => StatusHealth.IsAlive(store.Service.Get(r.Id), now, anyHost: store.Shared)))
            throw new UsageException($"the running service still replicates account {account}; reload it first (systemctl reload, or kill -HUP its pid), then forget it");
        if (store.Leases.All().FirstOrDefault(l => l.Account == account && l.Live) is { Owner: { } owner })
            throw new UsageException($"worker {owner} still holds account {account}'s lease; reload it first (systemctl reload on its box), then forget it");
        var folders = replicas.Sum(r => store.Folders.All(r.Id).Count);
        store.InTransaction(() =>
        {
            foreach (var replica in replicas) store.Replicas.Remove(replica.Id);
            if (store.Shared) store.Leases.Forget(account);
        });
        await output.WriteLineAsync($"forget: account {(account.Length > 0 ? account : "\"\"")}'s state is deleted ({Counted.Of(folders, "folder")}); the mail on both servers is untouched");
        return 0;
    }

    /// <summary>
    /// `observer forget --folder FOLDER [--account A] [--replica R]`: drops what the state remembers of one folder (its
    /// map, troubles, holds and writes in doubt). Nothing on either server is touched: the next sync finds the folder
    /// anew and pairs its messages by content, so nothing is copied twice. For a map gone wrong, or a folder stuck.
    /// </summary>
    public static async Task<int> ForgetFolderAsync(ObserverOptions options, string folder, string? account, string? replicaName, TimeProvider time, TextWriter output)
    {
        if (account is not null) account = AccountEngines.Named(account, options.EffectiveAccounts.Select(a => a.Name), options.HasAccountList);
        else if (options.HasAccountList)
            throw new UsageException($"forget --folder: name the account with --account NAME; the accounts are {string.Join(", ", options.EffectiveAccounts.Select(a => a.Name))}");
        if (replicaName is not null) replicaName = AccountEngines.NamedReplica(replicaName, options.ReplicaNames, options.NamesReplicas);
        if (!options.State.Location.MayExist)
            throw new UsageException($"there is no state database at {options.State.Describe}, so nothing to forget");
        // Any other observer on this state (the service, polled accounts and all; a sync) may hold the folder's rows in its hands.
        using var alone = InstanceLock.TryAcquire(options.State.Location)
            ?? throw new UsageException($"another observer is using the state database (the service, or a sync); stop it first (systemctl stop observer), forget {folder}, then start it again");
        using var store = StateStore.Open(options.State.Location, time);
        var replicas = options.Units.Where(u => u.Name == (account ?? "") && (replicaName is null || u.Target.Name == replicaName))
            .Select(u => store.Replicas.Find(u.Target.Name, u.Name)).OfType<ReplicaRecord>().ToList();
        var known = replicas.Select(r => (Replica: r, Folder: store.Folders.Find(r.Id, folder))).Where(k => k.Folder is not null).ToList();
        if (known.Count == 0)
        {
            var folders = replicas.SelectMany(r => store.Folders.All(r.Id).Select(f => f.PrimaryName)).Distinct().ToList();
            var near = folders.FirstOrDefault(f => f.Equals(folder, StringComparison.OrdinalIgnoreCase));
            throw new UsageException(near is not null
                ? $"the state knows no folder named '{folder}', but one named '{near}'; names are matched exactly"
                : $"the state knows no folder named '{folder}'; `observer status{(account is null ? "" : $" --account {account}")}` lists the folders it knows");
        }
        store.InTransaction(() =>
        {
            foreach (var (replica, record) in known)
            {
                store.Folders.Remove(record!.Id);
                store.Troubles.Clear(replica.Id, folder);
                store.Holds.Clear(replica.Id, folder, HoldKind.Messages);
                store.Holds.Clear(replica.Id, folder, HoldKind.Folder);
                store.Journal.Resolve(replica.Id, folder);
            }
        });
        await output.WriteLineAsync($"forget: what the state knew of {folder} is deleted ({Counted.Of(known.Count, "replica")}); the mail on both servers is untouched, " +
                                    "and the next sync pairs its messages again by content");
        return 0;
    }
}

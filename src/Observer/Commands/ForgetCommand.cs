using Observer.Replication;
using Observer.Cli;
using Observer.Configuration;
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
        if (!File.Exists(options.State.Path))
            throw new UsageException($"there is no state database at {options.State.Path}, so nothing to forget");
        using var store = StateStore.Open(options.State.Path, time);
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
        if (replicas.Any(r => StatusHealth.IsAlive(store.Service.Get(r.Id), now)))
            throw new UsageException($"the running service still replicates account {account}; reload it first (systemctl reload, or kill -HUP its pid), then forget it");
        var folders = replicas.Sum(r => store.Folders.All(r.Id).Count);
        store.InTransaction(() =>
        {
            foreach (var replica in replicas) store.Replicas.Remove(replica.Id);
        });
        await output.WriteLineAsync($"forget: account {(account.Length > 0 ? account : "\"\"")}'s state is deleted ({Counted.Of(folders, "folder")}); the mail on both servers is untouched");
        return 0;
    }
}

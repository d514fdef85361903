using Observer.Mail;

namespace Observer.TestSupport;

/// <summary>
/// The delete guard's part of the scenario: with observer stopped, so that no watcher sees it, most
/// of a folder's messages are deleted on the primary. Observer must hold those deletions (say so in
/// its log and list them in `observer status`), keep the copies, and apply them once `observer
/// approve --all` says so.
/// </summary>
internal static class MassDeleteStep
{
    public static async Task RunAsync(PairAccounts accounts, FolderNaming naming, FaultInjector observer, MutationLog log, ConvergenceResult result,
        Func<string, Task<bool>> convergeAsync)
    {
        var (folder, count) = await LargestBaseFolderAsync(accounts, naming);
        if (count < 20)
        {
            // Deleting 80 % must be more than the guard's floor (10) of deletions that are never held.
            await using (var client = await accounts.PrimaryClientAsync())
                for (; count < 25; count++) await client.AppendAsync(naming.ServerName(folder), MailFactory.Message($"guard filler {count}"));
            if (!await convergeAsync($"the replica before the mass delete in {folder}")) return;
        }

        // The guard measures a shrink from the fewest messages the folder held at any sync of the last day (a folder
        // that swings back to a size it had is churn): what is deleted must go well below that, not only below today's size.
        var baseline = Math.Min(count, LowestSeen(observer, naming.ServerName(folder)) ?? count);
        if (baseline <= 10)
        {
            log.Record("guard", $"skipped: {folder} held {baseline} messages at a sync during the activity, too few for any deletion to be held");
            return;
        }
        var keep = baseline >= 14 ? baseline / 5 : 0;

        var code = await observer.StopAsync();
        if (code != 0) result.Failures.Add($"observer exited with code {code} on SIGTERM before the mass delete");
        int deleted;
        await using (var client = await accounts.PrimaryClientAsync())
        {
            await client.SelectAsync(naming.ServerName(folder));
            var uids = (await client.UidSearchAsync(SearchQuery.All)).Expand().ToList();
            var victims = uids.Take(Math.Max(0, uids.Count - keep)).ToList();
            await MessageMover.ExpungeAsync(client, UidSet.FromUids(victims));
            deleted = victims.Count;
            log.Record("guard", $"with observer stopped, deleted {deleted} of {uids.Count} messages of {folder} on the primary");
        }
        var restarted = DateTime.Now;
        observer.Start();

        var serverName = naming.ServerName(folder);
        try
        {
            await Eventually.HoldsAsync(() => Task.FromResult(ObserverLog.Parse(observer.Observer.Errors)
                .Any(l => l.Time >= restarted && l.Text.Contains(serverName + ": deletions held back", StringComparison.Ordinal))), TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            result.Failures.Add($"observer did not hold the deletion of {deleted} messages of {folder} made while it was stopped");
            return;
        }
        var replicaLeft = await ReplicaCountAsync(accounts, folder);
        if (replicaLeft < count) result.Failures.Add($"the replica's {folder} holds {replicaLeft} messages while its deletions are held; it held {count}");
        var status = await ObserverProcess.RunAsync("status", observer.Settings, observer.WorkDirectory, TimeSpan.FromSeconds(60));
        result.StatusListsHold = status.Output.Contains(serverName, StringComparison.Ordinal) && status.Output.Contains("approve", StringComparison.Ordinal);
        log.Record("guard", $"held as expected; `observer status` {(result.StatusListsHold ? "lists" : "does not list")} the hold");

        var approve = await ObserverProcess.RunAsync("approve", observer.Settings, observer.WorkDirectory, TimeSpan.FromSeconds(60), "--all");
        log.Record("guard", $"observer approve --all: exit {approve.ExitCode}: {approve.Output.Trim()}");
        if (approve.ExitCode != 0) result.Failures.Add($"`observer approve --all` exited {approve.ExitCode}: {approve.Output}{approve.Errors}");
        if (await convergeAsync($"the replica after `observer approve --all` for {folder}")) result.MassDeleted = deleted;
    }

    private static async Task<(string Folder, int Count)> LargestBaseFolderAsync(PairAccounts accounts, FolderNaming naming)
    {
        await using var client = await accounts.PrimaryClientAsync();
        var best = ("Archive", 0);
        foreach (var folder in ScenarioSetup.BaseFolders.Where(f => f != "INBOX"))
        {
            var status = await client.StatusAsync(naming.ServerName(folder), StatusItems.Messages);
            if (status.Messages > best.Item2) best = (folder, (int)status.Messages!.Value);
        }
        return best;
    }

    /// <summary>The low-water mark observer keeps of the folder (or its size at the last sync), from its state, read-only.</summary>
    private static int? LowestSeen(FaultInjector observer, string primaryName)
    {
        var path = observer.Settings["State:Path"];
        if (!Path.IsPathRooted(path)) path = Path.Combine(observer.WorkDirectory, path);
        using var store = Observer.State.StateStore.OpenReadOnly(path);
        var replica = store.Replicas.Find("replica");
        var folder = replica is null ? null : store.Folders.Find(replica.Id, primaryName);
        var known = new[] { folder?.PrimaryLow, folder?.PrimaryMessages }.Where(v => v is not null).Select(v => (int)v!.Value).ToList();
        return known.Count == 0 ? null : known.Min();
    }

    private static async Task<int> ReplicaCountAsync(PairAccounts accounts, string folder)
    {
        await using var client = await accounts.ReplicaClientAsync();
        var naming = await FolderNaming.ReadAsync(client);
        return (int)((await client.StatusAsync(naming.ServerName(folder), StatusItems.Messages)).Messages ?? 0);
    }
}

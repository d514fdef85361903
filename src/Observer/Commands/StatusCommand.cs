using System.Globalization;
using Observer.Configuration;
using Observer.Hosting;
using Observer.State;

namespace Observer.Commands;

/// <summary>
/// `observer status`: read from the state database, read-only; works whether or not `observer run` is running.
/// Exit 0 when healthy, 1 when something needs attention (see <see cref="StatusHealth"/>).
/// </summary>
public static class StatusCommand
{
    public static async Task<int> RunAsync(ObserverOptions options, string? account, TimeProvider time, TextWriter output, TextWriter errors, string? replicaName = null)
    {
        var configured = options.EffectiveAccounts.Select(a => a.Name).ToList();
        if (account is not null) account = AccountEngines.Named(account, configured, options.HasAccountList);
        if (replicaName is not null) replicaName = AccountEngines.NamedReplica(replicaName, options.ReplicaNames, options.NamesReplicas);
        var units = options.Units.Where(u => (account is null || u.Name == account) && (replicaName is null || u.Target.Name == replicaName)).ToList();
        var path = options.State.Path;
        if (!File.Exists(path))
        {
            await errors.WriteLineAsync($"observer: no state database at {path}; run observer sync or observer run first");
            return 1;
        }
        using var store = StateStore.OpenReadOnly(path, time);
        await output.WriteLineAsync($"state: {options.State.Path}");
        await RolesAsync(store, options, output);
        var now = time.GetUtcNow();
        // The table for a list, even of one account; one replica's folders when a unit is named.
        if (options.RunsSeveral && (units.Count != 1 || (options.HasAccountList && account is null)))
            return await AccountsAsync(store, options, units, account is null, now, output);
        var unit = units[0];
        if (account is not null) await output.WriteLineAsync($"account: {account}");
        return await ReportAsync(store, unit, now, output);
    }

    /// <summary>
    /// One line per account and replica: what it holds, its lag and whether it needs attention; `--account NAME` (and
    /// `--replica NAME`) shows its folders.
    /// </summary>
    private static async Task<int> AccountsAsync(StateStore store, ObserverOptions options, IReadOnlyList<AccountOptions> units, bool everyAccount, DateTimeOffset now, TextWriter output)
    {
        if (units.Count == 0)
        {
            await output.WriteLineAsync("health: needs attention: the settings name no accounts; add them to Accounts or the AccountsFile");
            return 1;
        }
        static string Name(AccountOptions unit) => !unit.NamesReplica ? unit.Name : unit.Name.Length == 0 ? unit.Target.Name : $"{unit.Name} -> {unit.Target.Name}";
        var width = Math.Max(12, units.Max(u => Name(u).Length) + 2);
        await output.WriteLineAsync($"{(options.HasAccountList ? "ACCOUNT" : "REPLICA").PadRight(width)}{"FOLDERS",8}{"MESSAGES",10}{"PENDING",9}  {"LAG",-8} STATE");
        var attention = new List<string>();
        foreach (var unit in units)
        {
            var replica = store.Replicas.Find(unit.Target.Name, unit.Name);
            var facts = replica is null ? null : Facts.Read(store, replica, now);
            var problems = facts?.Problems() ?? ["never synced; run `observer sync` or `observer run`"];
            if (problems.Count > 0) attention.Add($"{Name(unit)}: {problems[0]}");
            var delayed = replica is null ? null : DelayedWork.Read(store, replica).Summary();
            await output.WriteLineAsync($"{Name(unit).PadRight(width)}{facts?.Folders.Count ?? 0,8}{facts?.Messages ?? 0,10}{facts?.PendingWrites ?? 0,9}  "
                + $"{(facts is null ? "-" : facts.OverallLag()),-8} {(problems.Count == 0 ? "ok" : string.Join("; ", problems))}{(delayed is null ? "" : $"; {delayed}")}");
        }
        var configured = options.EffectiveAccounts.Select(a => a.Name).ToList();
        var replicaNames = options.Units.Select(u => u.Target.Name).Distinct().ToList();
        // An account taken out of the settings keeps its state (its maps save a full comparison if it comes back).
        foreach (var gone in everyAccount ? store.Replicas.All().Where(r => replicaNames.Contains(r.Name) && !configured.Contains(r.Account, StringComparer.Ordinal)).DistinctBy(r => r.Account) : [])
            await output.WriteLineAsync(gone.Account.Length > 0
                ? $"{gone.Account.PadRight(width)}not in the settings any more; its state is kept (observer forget {gone.Account} deletes it)"
                : $"{"(unnamed)".PadRight(width)}the one account of the settings before they listed accounts; its state is kept (observer forget \"\" deletes it)");
        var counted = options.HasAccountList ? $"{configured.Count} account{(configured.Count == 1 ? "" : "s")}" : "";
        if (options.NamesReplicas) counted += (counted.Length > 0 ? ", " : "") + $"{replicaNames.Count} replica{(replicaNames.Count == 1 ? "" : "s")}";
        await output.WriteLineAsync(attention.Count == 0
            ? $"health: ok ({counted})"
            : $"health: needs attention: {string.Join("; ", attention)}; `observer status {(options.HasAccountList ? "--account NAME " : "")}{(options.NamesReplicas ? "--replica NAME" : "")}` shows its folders");
        return attention.Count == 0 ? 0 : 1;
    }

    /// <summary>After `observer promote`: which server is the primary, and the servers not yet compared with it.</summary>
    private static async Task RolesAsync(StateStore store, ObserverOptions options, TextWriter output)
    {
        if (options.Promoted is { } promoted)
            await output.WriteLineAsync($"primary: {promoted}, promoted with observer promote; the settings' Primary ({options.Replication.PrimaryName}) is a mirror of it " +
                                        $"(observer promote {options.Replication.PrimaryName} fails back)");
        foreach (var check in store.Failovers.Pending())
            await output.WriteLineAsync($"failover: {check.Server}{(check.Failover.Account.Length > 0 ? $" (account {check.Failover.Account})" : "")} is not compared with " +
                                        $"{check.Failover.NewPrimary} yet; nothing is written to it until it answers (observer report split-brain shows the difference)");
    }

    private static async Task<int> ReportAsync(StateStore store, AccountOptions unit, DateTimeOffset now, TextWriter output)
    {
        var (replicaName, account) = (unit.Target.Name, unit.Name);
        var replica = store.Replicas.Find(replicaName, account);
        if (replica is null)
        {
            await output.WriteLineAsync($"replica '{replicaName}': never synced; run `observer sync` or `observer run`");
            await output.WriteLineAsync("health: needs attention: nothing has been replicated to this replica yet");
            return 1;
        }
        await output.WriteLineAsync($"primary {replica.PrimaryEndpoint} -> replica {replica.ReplicaEndpoint}" + (replica.Mode == "mirror" ? "" : $" ({replica.Mode} replica '{replica.Name}')"));
        var facts = Facts.Read(store, replica, now);
        var (service, health) = (facts.Service, facts.Health);
        await output.WriteLineAsync("service: " + health.DescribeService());
        if (service is not null)
        {
            // What a service that is gone last recorded is history, not the servers' state now.
            await output.WriteLineAsync(health.ServiceAlive
                ? $"primary: {service.PrimaryState}; replica: {service.ReplicaState}"
                : "primary: unknown (service not running); replica: unknown (service not running)");
        }

        var (folders, open, troubles, holds) = (facts.Folders, facts.Open, facts.Troubles, facts.Holds);
        var held = holds.Select(h => h.Folder).ToHashSet(StringComparer.Ordinal);
        var width = Math.Max(20, folders.Select(f => f.PrimaryName.Length).DefaultIfEmpty(0).Max() + 2);
        await output.WriteLineAsync($"{"FOLDER".PadRight(width)}{"MESSAGES",9}  {"LAST SYNC",-20} {"PENDING",8} {"LAG",8}  STATE");
        foreach (var folder in folders)
        {
            var trouble = troubles.GetValueOrDefault(folder.PrimaryName);
            var pending = open.GetValueOrDefault(folder.PrimaryName);
            await output.WriteLineAsync(
                $"{folder.PrimaryName.PadRight(width)}{store.Messages.Count(folder.Id),9}  {Format(folder.LastSyncedAt),-20} {pending,8} {Lag(folder, trouble, now),8}  {State(folder, trouble, held.Contains(folder.PrimaryName))}");
        }
        if (troubles.Count > 0)
        {
            await output.WriteLineAsync("folders in trouble:");
            foreach (var t in troubles.Values)
                await output.WriteLineAsync($"  {t.Folder}: {t.Error} (since {Format(t.Since)}, {t.Attempts} attempts, next {Format(t.NextAttempt)})");
        }
        if (holds.Count > 0)
        {
            await output.WriteLineAsync("held deletions (new mail and flags still replicate; only these wait):");
            foreach (var h in holds)
            {
                var what = h.Kind == HoldKind.Folder ? "deleting the folder" : $"deleting {h.Count} messages";
                await output.WriteLineAsync(h.ApprovedAt is { } approved
                    ? $"  {h.Folder}: {what}: approved {Format(approved)}, applied at the next sync"
                    : $"  {h.Folder}: {what} (since {Format(h.Since)}): {h.Reason}; approve: observer approve {(account.Length > 0 ? $"--account {account} " : "")}{(unit.NamesReplica ? $"--replica {replicaName} " : "")}{Quote(h.Folder)}");
            }
        }
        var delayed = DelayedWork.Read(store, replica);
        if (delayed.Summary() is { } summary)
        {
            await output.WriteLineAsync($"held by the delay ({summary}):");
            foreach (var (folder, count, due) in delayed.Expunges)
                await output.WriteLineAsync($"  {folder}: {count} expunge{(count == 1 ? "" : "s")}, the first applied at {Format(due)}");
            foreach (var (folder, due) in delayed.FolderDeletions)
                await output.WriteLineAsync($"  {folder}: deleting the folder, at {Format(due)}");
            foreach (var (folder, count, due) in delayed.FlagRemovals)
                await output.WriteLineAsync($"  {folder}: {count} flag removal{(count == 1 ? "" : "s")}, the first applied at {Format(due)}");
        }
        await output.WriteLineAsync($"lag: {facts.OverallLag()}; pending writes: {facts.PendingWrites}; folders in trouble: {troubles.Count}");

        var problems = facts.Problems();
        await output.WriteLineAsync(problems.Count == 0 ? "health: ok" : "health: needs attention: " + string.Join("; ", problems));
        return problems.Count == 0 ? 0 : 1;
    }

    /// <summary>What the state says of one account's replica, read once for both the detailed report and the account line.</summary>
    private sealed record Facts(IReadOnlyList<FolderRecord> Folders, Dictionary<string, int> Open, Dictionary<string, TroubleRecord> Troubles,
        IReadOnlyList<HoldRecord> Holds, ServiceRecord? Service, StatusHealth Health, long Messages, DateTimeOffset Now)
    {
        public static Facts Read(StateStore store, ReplicaRecord replica, DateTimeOffset now)
        {
            var folders = store.Folders.All(replica.Id);
            var service = store.Service.Get(replica.Id);
            return new Facts(folders,
                store.Journal.Open(replica.Id).GroupBy(j => j.Folder).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
                store.Troubles.All(replica.Id).ToDictionary(t => t.Folder, StringComparer.Ordinal),
                store.Holds.All(replica.Id), service, new StatusHealth(service, now), folders.Sum(f => (long)store.Messages.Count(f.Id)), now);
        }

        public int PendingWrites => Open.Values.Sum();

        private int Unsynced => Folders.Count(f => f.LastSyncedAt is null);

        public List<string> Problems()
        {
            var problems = Health.Problems(Troubles.Values.ToList(), Holds, caughtUp: Unsynced == 0 && PendingWrites == 0 && Folders.All(f => f.DirtySince is null));
            // Every account has an INBOX: none known means the first pass has not got that far.
            if (Folders.Count == 0 && problems.Count == 0)
                problems.Add(Health.ServiceAlive ? "its first sync is under way" : "never synced; run `observer sync` or `observer run`");
            return problems;
        }

        public string OverallLag() => Folders.Count == 0 ? "-" : StatusCommand.OverallLag(Folders, Unsynced, Now);
    }

    /// <summary>A folder never synced has no lag to show, and one in trouble has none we can vouch for unless a change is known to wait.</summary>
    private static string Lag(FolderRecord folder, TroubleRecord? trouble, DateTimeOffset now) =>
        folder.DirtySince is { } since && (trouble is not null || folder.LastSyncedAt is not null) ? FormatLag(now - since)
        : trouble is not null ? "-"
        : folder.LastSyncedAt is null ? "never"
        : "0 s";

    private static string State(FolderRecord folder, TroubleRecord? trouble, bool held) =>
        trouble is not null ? "TROUBLE"
        : held ? "HELD"
        : folder.LastSyncedAt is null ? "not yet synced"
        : folder.DirtySince is null ? "ok" : "catching up";

    /// <summary>The worst lag of a known change; folders not yet synced have none to measure, so they are counted instead.</summary>
    private static string OverallLag(IReadOnlyList<FolderRecord> folders, int unsynced, DateTimeOffset now)
    {
        var worst = FormatLag(folders.Select(f => f.DirtySince is { } s ? now - s : TimeSpan.Zero).DefaultIfEmpty(TimeSpan.Zero).Max());
        if (unsynced == 0) return worst;
        return unsynced == folders.Count
            ? $"no folder synced yet ({folders.Count} folders)"
            : $"{worst}, and {unsynced} of {folders.Count} folders not yet synced";
    }

    /// <summary>A folder name as a shell word, ready to paste.</summary>
    private static string Quote(string folder) =>
        folder.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '/' or '_' or '-') ? folder : "'" + folder.Replace("'", "'\\''") + "'";

    internal static string Format(DateTimeOffset? value) =>
        value is { } v ? v.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "never";

    private static string FormatLag(TimeSpan lag) =>
        lag < TimeSpan.FromSeconds(1) ? "0 s" : lag < TimeSpan.FromMinutes(2) ? $"{lag.TotalSeconds:0} s" : $"{lag.TotalMinutes:0} min";
}

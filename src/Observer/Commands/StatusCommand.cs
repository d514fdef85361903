using System.Globalization;
using Observer.Configuration;
using Observer.Hosting;
using Observer.Monitoring;
using Observer.Replication;
using Observer.State;

namespace Observer.Commands;

/// <summary>
/// `observer status`: read from the state database, read-only; works whether or not `observer run` is running, and
/// never creates a database nor waits for the service's lock. Its exit code is the <see cref="HealthLevel"/>: 0 all
/// well, 1 lagging or in trouble, 2 not running or not connected.
/// </summary>
public static class StatusCommand
{
    public static async Task<int> RunAsync(ObserverOptions options, string? account, TimeProvider time, TextWriter output, TextWriter errors, string? replicaName = null,
        bool json = false)
    {
        var configured = options.EffectiveAccounts.Select(a => a.Name).ToList();
        if (account is not null) account = AccountEngines.Named(account, configured, options.HasAccountList);
        if (replicaName is not null) replicaName = AccountEngines.NamedReplica(replicaName, options.ReplicaNames, options.NamesReplicas);
        var units = options.Units.Where(u => (account is null || u.Name == account) && (replicaName is null || u.Target.Name == replicaName)).ToList();
        var snapshot = StatusSnapshot.TryRead(options, units, time, everyAccount: account is null);
        if (snapshot is null)
        {
            if (json) await StatusJson.WriteAsync(null, options.State.Describe, output);
            else await errors.WriteLineAsync($"observer: no state database at {options.State.Describe}; run observer sync or observer run first");
            return (int)HealthLevel.Down;
        }
        if (json)
        {
            await StatusJson.WriteAsync(snapshot, options.State.Describe, output);
            return (int)snapshot.Level;
        }
        await output.WriteLineAsync($"state: {options.State.Describe}");
        await RolesAsync(snapshot, options, output);
        // The table for a list, even of one account; one replica's folders when a unit is named.
        if (options.RunsSeveral && (units.Count != 1 || (options.HasAccountList && account is null)))
            return await AccountsAsync(snapshot, options, output);
        if (account is not null) await output.WriteLineAsync($"account: {account}");
        return await ReportAsync(snapshot.Units[0], output);
    }

    /// <summary>The lease holder as the table shows it: "-" when no live worker holds the account.</summary>
    private static string Owner(UnitStatus unit) => unit.Lease is { Live: true, Owner: { } owner } ? owner : "-";

    /// <summary>On a shared state, one line per worker: how many accounts it holds, and the ones that stopped renewing.</summary>
    private static async Task WorkersAsync(StatusSnapshot snapshot, TextWriter output)
    {
        if (snapshot.Workers is not { } workers) return;
        var live = workers.Where(w => w.Live).ToList();
        await output.WriteLineAsync(live.Count == 0 ? "workers: none running"
            : $"workers: {string.Join(", ", live.Select(w => $"{w.Id} ({snapshot.HeldBy(w.Id)} accounts, pid {w.Pid} on {w.Host})"))}");
        foreach (var gone in workers.Where(w => !w.Live))
            await output.WriteLineAsync($"  {gone.Id} stopped renewing {Format(gone.RenewedAt)}");
    }

    /// <summary>
    /// One line per account and replica: what it holds, its lag and whether it needs attention; `--account NAME` (and
    /// `--replica NAME`) shows its folders.
    /// </summary>
    private static async Task<int> AccountsAsync(StatusSnapshot snapshot, ObserverOptions options, TextWriter output)
    {
        var units = snapshot.Units;
        if (units.Count == 0)
        {
            await output.WriteLineAsync("health: needs attention: the settings name no accounts; add them to Accounts or the AccountsFile");
            return (int)snapshot.Level;
        }
        var width = Math.Max(12, units.Max(u => u.Label.Length) + 2);
        var shared = snapshot.Workers is not null;
        var ownerWidth = shared ? Math.Max(8, units.Max(u => u.Lease?.Owner?.Length ?? 1) + 2) : 0;
        await WorkersAsync(snapshot, output);
        await output.WriteLineAsync($"{(options.HasAccountList ? "ACCOUNT" : "REPLICA").PadRight(width)}{"FOLDERS",8}{"MESSAGES",10}{"PENDING",9}  {"LAG",-8} {(shared ? "OWNER".PadRight(ownerWidth) : "")}STATE");
        var attention = new List<string>();
        foreach (var unit in units)
        {
            var problems = unit.Problems.Where(p => p.Level > HealthLevel.Ok).Select(p => p.Text).ToList();
            if (problems.Count > 0) attention.Add($"{unit.Label}: {problems[0]}");
            var delayed = unit.Delayed?.Summary();
            await output.WriteLineAsync($"{unit.Label.PadRight(width)}{unit.Folders.Count,8}{unit.Messages,10}{unit.PendingWrites,9}  "
                + $"{(unit.Replica is null ? "-" : OverallLag(unit)),-8} {(shared ? Owner(unit).PadRight(ownerWidth) : "")}{(problems.Count == 0 ? "ok" : string.Join("; ", problems))}{(delayed is null ? "" : $"; {delayed}")}");
        }
        foreach (var gone in snapshot.GoneAccounts)
            await output.WriteLineAsync(gone.Length > 0
                ? $"{gone.PadRight(width)}not in the settings any more; its state is kept (observer forget {gone} deletes it)"
                : $"{"(unnamed)".PadRight(width)}the one account of the settings before they listed accounts; its state is kept (observer forget \"\" deletes it)");
        var accounts = options.EffectiveAccounts.Count;
        var replicas = options.Units.Select(u => u.Target.Name).Distinct().Count();
        var counted = options.HasAccountList ? Counted.Of(accounts, "account") : "";
        if (options.NamesReplicas) counted += (counted.Length > 0 ? ", " : "") + Counted.Of(replicas, "replica");
        await output.WriteLineAsync(attention.Count == 0
            ? $"health: ok ({counted})"
            : $"health: {snapshot.Level.Heading()}: {string.Join("; ", attention)}; `observer status {(options.HasAccountList ? "--account NAME " : "")}{(options.NamesReplicas ? "--replica NAME" : "")}` shows its folders");
        return (int)snapshot.Level;
    }

    /// <summary>After `observer promote`: which server is the primary, and the servers not yet compared with it.</summary>
    private static async Task RolesAsync(StatusSnapshot snapshot, ObserverOptions options, TextWriter output)
    {
        if (snapshot.Promoted is { } promoted)
            await output.WriteLineAsync($"primary: {promoted}, promoted with observer promote; the settings' Primary ({options.Replication.PrimaryName}) is a mirror of it " +
                                        $"(observer promote {options.Replication.PrimaryName} fails back)");
        foreach (var check in snapshot.PendingChecks)
            await output.WriteLineAsync($"failover: {check.Server}{(check.Failover.Account.Length > 0 ? $" (account {check.Failover.Account})" : "")} is not compared with " +
                                        $"{check.Failover.NewPrimary} yet; nothing is written to it until it answers (observer report split-brain shows the difference)");
    }

    private static async Task<int> ReportAsync(UnitStatus unit, TextWriter output)
    {
        var replica = unit.Replica;
        if (replica is null)
        {
            await output.WriteLineAsync($"replica '{unit.ReplicaName}': never synced; run `observer sync` or `observer run`");
            await output.WriteLineAsync($"health: {unit.Level.Heading()}: nothing has been replicated to this replica yet");
            return (int)unit.Level;
        }
        await output.WriteLineAsync($"primary {replica.PrimaryEndpoint} -> replica {replica.ReplicaEndpoint}" + (replica.Mode == "mirror" ? "" : $" ({replica.Mode} replica '{replica.Name}')"));
        await output.WriteLineAsync("service: " + unit.DescribeService());
        if (unit.Service is { } service)
        {
            // What a service that is gone last recorded is history, not the servers' state now.
            await output.WriteLineAsync(unit.ServiceAlive
                ? $"primary: {service.PrimaryState}; replica: {service.ReplicaState}"
                : "primary: unknown (service not running); replica: unknown (service not running)");
        }

        var held = unit.Holds.Select(h => h.Folder).ToHashSet(StringComparer.Ordinal);
        var width = Math.Max(20, unit.Folders.Select(f => f.PrimaryName.Length).DefaultIfEmpty(0).Max() + 2);
        await output.WriteLineAsync($"{"FOLDER".PadRight(width)}{"MESSAGES",9}  {"LAST SYNC",-20} {"PENDING",8} {"LAG",8}  STATE");
        foreach (var folder in unit.Folders)
        {
            var trouble = unit.Troubles.GetValueOrDefault(folder.PrimaryName);
            await output.WriteLineAsync(
                $"{folder.PrimaryName.PadRight(width)}{unit.MessageCounts[folder.Id],9}  {Format(folder.LastSyncedAt),-20} {unit.Open.GetValueOrDefault(folder.PrimaryName),8} " +
                $"{Lag(folder, trouble, unit.Now),8}  {State(folder, trouble, held.Contains(folder.PrimaryName))}");
        }
        if (unit.Troubles.Count > 0)
        {
            await output.WriteLineAsync("folders in trouble:");
            foreach (var t in unit.Troubles.Values)
                await output.WriteLineAsync($"  {t.Folder}: {t.Error} (since {Format(t.Since)}, {t.Attempts} attempts, next {Format(t.NextAttempt)}; observer retry {RetryArguments(unit)}{Quote(t.Folder)} tries it now)");
        }
        if (unit.Holds.Count > 0)
        {
            await output.WriteLineAsync("held deletions (new mail and flags still replicate; only these wait):");
            foreach (var h in unit.Holds)
            {
                var what = h.Kind == HoldKind.Folder ? "deleting the folder" : $"deleting {h.Count} messages";
                await output.WriteLineAsync(h.ApprovedAt is { } approved
                    ? $"  {h.Folder}: {what}: approved {Format(approved)}, applied at the next sync"
                    : $"  {h.Folder}: {what} (since {Format(h.Since)}): {h.Reason}; approve: {ApproveCommandLine(unit, h.Folder)}");
            }
        }
        if (unit.Delayed?.Summary() is { } summary)
        {
            var delayed = unit.Delayed;
            await output.WriteLineAsync($"held by the delay ({summary}):");
            foreach (var (folder, count, due) in delayed.Expunges)
                await output.WriteLineAsync($"  {folder}: {Counted.Of(count, "expunge")}, the first applied at {Format(due)}");
            foreach (var (folder, due) in delayed.FolderDeletions)
                await output.WriteLineAsync($"  {folder}: deleting the folder, at {Format(due)}");
            foreach (var (folder, count, due) in delayed.FlagRemovals)
                await output.WriteLineAsync($"  {folder}: {Counted.Of(count, "flag removal")}, the first applied at {Format(due)}");
        }
        await output.WriteLineAsync($"lag: {OverallLag(unit)}; pending writes: {unit.PendingWrites}; folders in trouble: {unit.Troubles.Count}");
        var problems = unit.Problems.Select(p => p.Text).ToList();
        await output.WriteLineAsync(problems.Count == 0 ? "health: ok" : $"health: {unit.Level.Heading()}: {string.Join("; ", problems)}");
        return (int)unit.Level;
    }

    /// <summary>The command that approves a hold, ready to paste: status, the JSON and the page all show it.</summary>
    internal static string ApproveCommandLine(UnitStatus unit, string folder) =>
        $"observer approve {(unit.Account.Length > 0 ? $"--account {Quote(unit.Account)} " : "")}{(unit.Unit.NamesReplica ? $"--replica {Quote(unit.ReplicaName)} " : "")}{Quote(folder)}";

    private static string RetryArguments(UnitStatus unit) =>
        $"{(unit.Account.Length > 0 ? $"--account {Quote(unit.Account)} " : "")}{(unit.Unit.NamesReplica ? $"--replica {Quote(unit.ReplicaName)} " : "")}";

    /// <summary>A folder never synced has no lag to show, and one in trouble has none we can vouch for unless a change is known to wait.</summary>
    internal static string Lag(FolderRecord folder, TroubleRecord? trouble, DateTimeOffset now) =>
        folder.DirtySince is { } since && (trouble is not null || folder.LastSyncedAt is not null) ? FormatLag(now - since)
        : trouble is not null ? "-"
        : folder.LastSyncedAt is null ? "never"
        : "0 s";

    internal static string State(FolderRecord folder, TroubleRecord? trouble, bool held) =>
        trouble is not null ? "TROUBLE"
        : held ? "HELD"
        : folder.LastSyncedAt is null ? "not yet synced"
        : folder.DirtySince is null ? "ok" : "catching up";

    /// <summary>The worst lag of a known change; folders not yet synced have none to measure, so they are counted instead.</summary>
    internal static string OverallLag(UnitStatus unit)
    {
        if (unit.Folders.Count == 0) return "-";
        var worst = FormatLag(unit.WorstLag);
        if (unit.Unsynced == 0) return worst;
        return unit.Unsynced == unit.Folders.Count
            ? $"no folder synced yet ({unit.Folders.Count} folders)"
            : $"{worst}, and {unit.Unsynced} of {unit.Folders.Count} folders not yet synced";
    }

    /// <summary>A name as a shell word, ready to paste.</summary>
    internal static string Quote(string folder) =>
        folder.Length > 0 && folder.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '/' or '_' or '-' or '@') ? folder : "'" + folder.Replace("'", "'\\''") + "'";

    internal static string Format(DateTimeOffset? value) =>
        value is { } v ? v.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "never";

    internal static string FormatLag(TimeSpan lag) =>
        lag < TimeSpan.FromSeconds(1) ? "0 s" : lag < TimeSpan.FromMinutes(2) ? $"{lag.TotalSeconds:0} s" : $"{lag.TotalMinutes:0} min";
}

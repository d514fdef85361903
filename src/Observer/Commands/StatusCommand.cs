using System.Globalization;
using Observer.Configuration;
using Observer.State;

namespace Observer.Commands;

/// <summary>
/// `observer status`: read from the state database, read-only; works whether or not `observer run` is running.
/// Exit 0 when healthy, 1 when something needs attention (see <see cref="StatusHealth"/>).
/// </summary>
public static class StatusCommand
{
    public static async Task<int> RunAsync(ObserverOptions options, TimeProvider time, TextWriter output, TextWriter errors)
    {
        var path = options.State.Path;
        if (!File.Exists(path))
        {
            await errors.WriteLineAsync($"observer: no state database at {path}; run observer sync or observer run first");
            return 1;
        }
        using var store = StateStore.OpenReadOnly(path, time);
        return await ReportAsync(store, options, time.GetUtcNow(), output);
    }

    private static async Task<int> ReportAsync(StateStore store, ObserverOptions options, DateTimeOffset now, TextWriter output)
    {
        await output.WriteLineAsync($"state: {options.State.Path}");
        var replica = store.Replicas.Find(options.Replication.ReplicaName);
        if (replica is null)
        {
            await output.WriteLineAsync($"replica '{options.Replication.ReplicaName}': never synced; run `observer sync` or `observer run`");
            await output.WriteLineAsync("health: needs attention: nothing has been replicated to this replica yet");
            return 1;
        }
        await output.WriteLineAsync($"primary {replica.PrimaryEndpoint} -> replica {replica.ReplicaEndpoint}");
        var service = store.Service.Get(replica.Id);
        var health = new StatusHealth(service, now);
        await output.WriteLineAsync("service: " + health.DescribeService());
        if (service is not null)
        {
            // What a service that is gone last recorded is history, not the servers' state now.
            await output.WriteLineAsync(health.ServiceAlive
                ? $"primary: {service.PrimaryState}; replica: {service.ReplicaState}"
                : "primary: unknown (service not running); replica: unknown (service not running)");
        }

        var folders = store.Folders.All(replica.Id);
        var open = store.Journal.Open(replica.Id).GroupBy(j => j.Folder).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var troubles = store.Troubles.All(replica.Id).ToDictionary(t => t.Folder, StringComparer.Ordinal);
        var holds = store.Holds.All(replica.Id);
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
                    : $"  {h.Folder}: {what} (since {Format(h.Since)}): {h.Reason}; approve: observer approve {Quote(h.Folder)}");
            }
        }
        var unsynced = folders.Count(f => f.LastSyncedAt is null);
        var pendingWrites = open.Values.Sum();
        await output.WriteLineAsync($"lag: {OverallLag(folders, unsynced, now)}; pending writes: {pendingWrites}; folders in trouble: {troubles.Count}");

        var problems = health.Problems(troubles.Values.ToList(), holds, caughtUp: unsynced == 0 && pendingWrites == 0 && folders.All(f => f.DirtySince is null));
        await output.WriteLineAsync(problems.Count == 0 ? "health: ok" : "health: needs attention: " + string.Join("; ", problems));
        return problems.Count == 0 ? 0 : 1;
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

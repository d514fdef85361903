using System.Globalization;
using Observer.Configuration;
using Observer.State;

namespace Observer.Commands;

/// <summary>`observer status`: read from the state database; works whether or not `observer run` is running.</summary>
public static class StatusCommand
{
    public static async Task<int> RunAsync(StateStore store, ObserverOptions options, TimeProvider time, TextWriter output)
    {
        var now = time.GetUtcNow();
        await output.WriteLineAsync($"state: {options.State.Path}");
        var replica = store.Replicas.Find(options.Replication.ReplicaName);
        if (replica is null)
        {
            await output.WriteLineAsync($"replica '{options.Replication.ReplicaName}': never synced; run `observer sync` or `observer run`");
            return 0;
        }
        await output.WriteLineAsync($"primary {replica.PrimaryEndpoint} -> replica {replica.ReplicaEndpoint}");
        var service = store.Service.Get(replica.Id);
        await output.WriteLineAsync("service: " + DescribeService(service, now));
        if (service is { PrimaryState: not null })
            await output.WriteLineAsync($"primary: {service.PrimaryState}; replica: {service.ReplicaState}");

        var folders = store.Folders.All(replica.Id);
        var open = store.Journal.Open(replica.Id).GroupBy(j => j.Folder).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var troubles = store.Troubles.All(replica.Id).ToDictionary(t => t.Folder, StringComparer.Ordinal);
        var width = Math.Max(20, folders.Select(f => f.PrimaryName.Length).DefaultIfEmpty(0).Max() + 2);
        await output.WriteLineAsync($"{"FOLDER".PadRight(width)}{"MESSAGES",9}  {"LAST SYNC",-20} {"PENDING",8} {"LAG",8}  STATE");
        foreach (var folder in folders)
        {
            var pending = open.GetValueOrDefault(folder.PrimaryName);
            var lag = folder.DirtySince is { } since ? now - since : TimeSpan.Zero;
            var state = troubles.TryGetValue(folder.PrimaryName, out var t) ? "TROUBLE" : folder.DirtySince is null ? "ok" : "catching up";
            await output.WriteLineAsync(
                $"{folder.PrimaryName.PadRight(width)}{store.Messages.Count(folder.Id),9}  {Format(folder.LastSyncedAt),-20} {pending,8} {FormatLag(lag),8}  {state}");
        }
        if (troubles.Count > 0)
        {
            await output.WriteLineAsync("folders in trouble:");
            foreach (var t in troubles.Values)
                await output.WriteLineAsync($"  {t.Folder}: {t.Error} (since {Format(t.Since)}, {t.Attempts} attempts, next {Format(t.NextAttempt)})");
        }
        var maxLag = folders.Select(f => f.DirtySince is { } s ? now - s : TimeSpan.Zero).DefaultIfEmpty(TimeSpan.Zero).Max();
        await output.WriteLineAsync($"lag: {FormatLag(maxLag)}; pending writes: {open.Values.Sum()}; folders in trouble: {troubles.Count}");
        return 0;
    }

    private static string DescribeService(ServiceRecord? service, DateTimeOffset now)
    {
        if (service?.HeartbeatAt is not { } beat) return "not running";
        var age = now - beat;
        var alive = service.Pid is { } pid && age < TimeSpan.FromSeconds(30) && IsAlive(pid);
        return alive
            ? $"running (pid {service.Pid}, watching with {service.WatchMode}, last heartbeat {age.TotalSeconds:0} s ago)"
            : $"not running (last seen {Format(beat)})";
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string Format(DateTimeOffset? value) =>
        value is { } v ? v.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "never";

    private static string FormatLag(TimeSpan lag) =>
        lag < TimeSpan.FromSeconds(1) ? "0 s" : lag < TimeSpan.FromMinutes(2) ? $"{lag.TotalSeconds:0} s" : $"{lag.TotalMinutes:0} min";
}

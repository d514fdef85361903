using System.Text.Json;
using Observer.Commands;
using Observer.State;

namespace Observer.Monitoring;

/// <summary>
/// `observer status --json`: the snapshot as one JSON document, for scripts and monitoring checks. Times are UTC in
/// ISO 8601, durations in seconds; names follow the text report's. Written field by field, so it needs no reflection.
/// </summary>
public static class StatusJson
{
    public static async Task WriteAsync(StatusSnapshot? snapshot, string statePath, TextWriter output)
    {
        using var buffer = new MemoryStream();
        await using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            Write(json, snapshot, statePath);
        }
        await output.WriteLineAsync(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    public static void Write(Utf8JsonWriter json, StatusSnapshot? snapshot, string statePath)
    {
        json.WriteStartObject();
        var level = snapshot?.Level ?? HealthLevel.Down;
        json.WriteString("health", level.Word());
        json.WriteNumber("exitCode", (int)level);
        json.WriteString("state", statePath);
        if (snapshot is null)
        {
            json.WriteStartArray("problems");
            json.WriteStringValue("no state database yet; run observer sync or observer run first");
            json.WriteEndArray();
            json.WriteEndObject();
            return;
        }
        json.WriteString("now", snapshot.Now.UtcDateTime);
        json.WriteString("primary", snapshot.Promoted ?? snapshot.PrimaryName);
        json.WriteBoolean("promoted", snapshot.Promoted is not null);
        json.WriteNumber("maxLagSeconds", snapshot.MaxLag.TotalSeconds);
        json.WriteStartArray("problems");
        foreach (var unit in snapshot.Units)
        foreach (var problem in unit.Problems.Where(p => p.Level > HealthLevel.Ok))
            json.WriteStringValue(snapshot.Units.Count == 1 ? problem.Text : $"{unit.Label}: {problem.Text}");
        json.WriteEndArray();
        json.WriteStartArray("units");
        foreach (var unit in snapshot.Units) WriteUnit(json, unit);
        json.WriteEndArray();
        if (snapshot.Workers is { } workers)
        {
            json.WriteStartArray("workers");
            foreach (var worker in workers)
            {
                json.WriteStartObject();
                json.WriteString("id", worker.Id);
                json.WriteString("host", worker.Host);
                json.WriteNumber("pid", worker.Pid);
                json.WriteBoolean("live", worker.Live);
                json.WriteString("renewedAt", worker.RenewedAt.UtcDateTime);
                json.WriteNumber("accounts", snapshot.HeldBy(worker.Id));
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        json.WriteStartArray("accountsNotInSettings");
        foreach (var gone in snapshot.GoneAccounts) json.WriteStringValue(gone);
        json.WriteEndArray();
        json.WriteStartArray("failoverChecksPending");
        foreach (var check in snapshot.PendingChecks)
        {
            json.WriteStartObject();
            json.WriteString("server", check.Server);
            json.WriteString("account", check.Failover.Account);
            json.WriteString("newPrimary", check.Failover.NewPrimary);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteUnit(Utf8JsonWriter json, UnitStatus unit)
    {
        json.WriteStartObject();
        json.WriteString("account", unit.Account);
        json.WriteString("replica", unit.ReplicaName);
        json.WriteString("mode", unit.Replica?.Mode ?? unit.Unit.Target.Mode);
        json.WriteString("health", unit.Level.Word());
        if (unit.Lease is { } lease)
        {
            json.WriteStartObject("lease");
            json.WriteString("owner", lease.Owner);
            json.WriteBoolean("live", lease.Live);
            json.WriteNumber("token", lease.Token);
            if (lease.ExpiresAt is { } expires) json.WriteString("expiresAt", expires.UtcDateTime);
            json.WriteEndObject();
        }
        json.WriteStartArray("problems");
        foreach (var problem in unit.Problems.Where(p => p.Level > HealthLevel.Ok)) json.WriteStringValue(problem.Text);
        json.WriteEndArray();
        json.WriteStartObject("service");
        json.WriteBoolean("running", unit.ServiceAlive);
        json.WriteString("description", unit.DescribeService());
        if (unit.Service is { } service)
        {
            Optional(json, "pid", service.Pid);
            Optional(json, "heartbeatAt", service.HeartbeatAt);
            json.WriteString("watchMode", service.WatchMode);
            // What a service that is gone last recorded is history, not the servers' state now.
            json.WriteString("primaryConnection", unit.ServiceAlive ? service.PrimaryState : "unknown");
            json.WriteString("replicaConnection", unit.ServiceAlive ? service.ReplicaState : "unknown");
            json.WriteString("lastError", service.LastError);
        }
        json.WriteEndObject();
        json.WriteNumber("folders", unit.Folders.Count);
        json.WriteNumber("foldersNotYetSynced", unit.Unsynced);
        json.WriteNumber("messages", unit.Messages);
        json.WriteNumber("pendingWrites", unit.PendingWrites);
        json.WriteNumber("lagSeconds", Math.Round(unit.WorstLag.TotalSeconds, 3));
        json.WriteStartArray("troubles");
        foreach (var t in unit.Troubles.Values)
        {
            json.WriteStartObject();
            json.WriteString("folder", t.Folder);
            json.WriteString("error", t.Error);
            json.WriteString("since", t.Since.UtcDateTime);
            json.WriteNumber("attempts", t.Attempts);
            json.WriteString("nextAttempt", t.NextAttempt.UtcDateTime);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("heldDeletions");
        foreach (var h in unit.Holds)
        {
            json.WriteStartObject();
            json.WriteString("folder", h.Folder);
            json.WriteString("kind", h.Kind == HoldKind.Folder ? "folder" : "messages");
            json.WriteNumber("count", h.Count);
            json.WriteString("reason", h.Reason);
            json.WriteString("since", h.Since.UtcDateTime);
            Optional(json, "approvedAt", h.ApprovedAt);
            if (h.ApprovedAt is null) json.WriteString("approve", StatusCommand.ApproveCommandLine(unit, h.Folder));
            json.WriteEndObject();
        }
        json.WriteEndArray();
        if (unit.Delayed is { } delayed && delayed.Delay > TimeSpan.Zero)
        {
            json.WriteStartObject("delayed");
            json.WriteNumber("delaySeconds", delayed.Delay.TotalSeconds);
            json.WriteNumber("expunges", delayed.Expunges.Sum(e => e.Count));
            json.WriteNumber("folderDeletions", delayed.FolderDeletions.Count);
            json.WriteNumber("flagRemovals", delayed.FlagRemovals.Sum(f => f.Count));
            json.WriteEndObject();
        }
        json.WriteStartArray("folderList");
        var held = unit.Holds.Select(h => h.Folder).ToHashSet(StringComparer.Ordinal);
        foreach (var folder in unit.Folders)
        {
            var trouble = unit.Troubles.GetValueOrDefault(folder.PrimaryName);
            json.WriteStartObject();
            json.WriteString("name", folder.PrimaryName);
            json.WriteString("replicaName", folder.ReplicaName);
            json.WriteNumber("messages", unit.MessageCounts[folder.Id]);
            Optional(json, "lastSync", folder.LastSyncedAt);
            json.WriteNumber("pendingWrites", unit.Open.GetValueOrDefault(folder.PrimaryName));
            json.WriteNumber("lagSeconds", folder.DirtySince is { } since ? Math.Round((unit.Now - since).TotalSeconds, 3) : 0);
            json.WriteString("state", StatusCommand.State(folder, trouble, held.Contains(folder.PrimaryName)));
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void Optional(Utf8JsonWriter json, string name, DateTimeOffset? value)
    {
        if (value is { } v) json.WriteString(name, v.UtcDateTime);
        else json.WriteNull(name);
    }

    private static void Optional(Utf8JsonWriter json, string name, int? value)
    {
        if (value is { } v) json.WriteNumber(name, v);
        else json.WriteNull(name);
    }
}

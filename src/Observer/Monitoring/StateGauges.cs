using Observer.State;
using Prometheus;

namespace Observer.Monitoring;

/// <summary>The gauges of /metrics: what the state says of each account and replica now, as `observer status` reads it.</summary>
internal static class StateGauges
{
    private static readonly string[] Unit = ["account", "replica"];
    private static readonly string[] UnitFolder = ["account", "replica", "folder"];

    /// <summary>"notify" of "NOTIFY, with STATUS polling every 30 s as a backstop": a label value that stays put.</summary>
    private static string Mode(string described) => described.Split([' ', ','], 2)[0].ToLowerInvariant();

    public static void Fill(IMetricFactory factory, StatusSnapshot snapshot)
    {
        var health = factory.CreateGauge("observer_health", "0 all well, 1 needs attention (lagging, trouble, held), 2 not running or not connected: status's exit code.", Unit);
        var lag = factory.CreateGauge("observer_replication_lag_seconds", "Age of the oldest change known on the primary and not yet on the replica.", Unit);
        var folderLag = factory.CreateGauge("observer_folder_lag_seconds", "Age of the oldest change waiting, per folder that has one.", UnitFolder);
        var folders = factory.CreateGauge("observer_folders", "Folders replicated.", Unit);
        var unsynced = factory.CreateGauge("observer_folders_not_yet_synced", "Folders whose first sync has not completed.", Unit);
        var troubled = factory.CreateGauge("observer_folders_in_trouble", "Folders whose sync fails and is retried with a backoff.", Unit);
        var trouble = factory.CreateGauge("observer_folder_trouble_attempts", "Attempts so far, per folder in trouble.", UnitFolder);
        var messages = factory.CreateGauge("observer_messages", "Messages the replica holds for the primary, as the state knows them.", Unit);
        var pending = factory.CreateGauge("observer_pending_writes", "Writes begun and not yet known to have landed.", Unit);
        var held = factory.CreateGauge("observer_held_deletions", "Deletions the delete guard holds for approval (messages, or 1 for a folder), per folder.", [.. UnitFolder, "kind"]);
        var delayed = factory.CreateGauge("observer_delayed_changes", "Changes a delayed replica holds back for its delay, by kind.", [.. Unit, "kind"]);
        var up = factory.CreateGauge("observer_service_up", "1 while the service replicates this account live (its heartbeat is fresh), else 0.", Unit);
        var connected = factory.CreateGauge("observer_connected", "1 while the service is connected to the server (primary or replica), else 0.", [.. Unit, "server"]);
        var watch = factory.CreateGauge("observer_watch_mode", "1 for the way the primary is watched: notify, idle or poll.", [.. Unit, "mode"]);
        if (snapshot.Workers is { } workers)
        {
            var owned = factory.CreateGauge("observer_account_owner", "1 for the worker holding the account's lease, renewed in time (a shared state).", ["account", "worker"]);
            var holding = factory.CreateGauge("observer_worker_accounts", "Accounts each live worker holds (a shared state).", ["worker"]);
            foreach (var worker in workers.Where(w => w.Live)) holding.WithLabels(worker.Id).Set(snapshot.HeldBy(worker.Id));
            foreach (var unit in snapshot.Units.Where(u => u.Lease is { Live: true, Owner: not null }).DistinctBy(u => u.Account))
                owned.WithLabels(unit.Account, unit.Lease!.Owner!).Set(1);
        }
        foreach (var unit in snapshot.Units)
        {
            string[] labels = [unit.Account, unit.ReplicaName];
            health.WithLabels(labels).Set((int)unit.Level);
            up.WithLabels(labels).Set(unit.ServiceAlive ? 1 : 0);
            if (unit.Service is { } service)
            {
                connected.WithLabels([.. labels, "primary"]).Set(unit.ServiceAlive && service.PrimaryState == "connected" ? 1 : 0);
                connected.WithLabels([.. labels, "replica"]).Set(unit.ServiceAlive && service.ReplicaState == "connected" ? 1 : 0);
                if (unit.ServiceAlive && !string.IsNullOrEmpty(service.WatchMode)) watch.WithLabels([.. labels, Mode(service.WatchMode)]).Set(1);
            }
            if (unit.Replica is null) continue;
            lag.WithLabels(labels).Set(unit.WorstLag.TotalSeconds);
            folders.WithLabels(labels).Set(unit.Folders.Count);
            unsynced.WithLabels(labels).Set(unit.Unsynced);
            troubled.WithLabels(labels).Set(unit.Troubles.Count);
            messages.WithLabels(labels).Set(unit.Messages);
            pending.WithLabels(labels).Set(unit.PendingWrites);
            foreach (var folder in unit.Folders.Where(f => f.DirtySince is not null))
                folderLag.WithLabels([.. labels, folder.PrimaryName]).Set((unit.Now - folder.DirtySince!.Value).TotalSeconds);
            foreach (var t in unit.Troubles.Values) trouble.WithLabels([.. labels, t.Folder]).Set(t.Attempts);
            foreach (var h in unit.Holds.Where(h => h.ApprovedAt is null))
                held.WithLabels([.. labels, h.Folder, h.Kind == HoldKind.Folder ? "folder" : "messages"]).Set(h.Kind == HoldKind.Folder ? 1 : h.Count);
            if (unit.Delayed is { Delay.Ticks: > 0 } work)
            {
                delayed.WithLabels([.. labels, "expunge"]).Set(work.Expunges.Sum(e => e.Count));
                delayed.WithLabels([.. labels, "folder_deletion"]).Set(work.FolderDeletions.Count);
                delayed.WithLabels([.. labels, "flag_removal"]).Set(work.FlagRemovals.Sum(f => f.Count));
            }
        }
    }
}

using Observer.Commands;
using Observer.Configuration;
using Observer.State;

namespace Observer.Monitoring;

/// <summary>
/// What the state says of one account's replica, read once for every view of it: status's text and JSON, the
/// status page, /healthz and /metrics.
/// </summary>
public sealed class UnitStatus
{
    private readonly StatusHealth _health;

    private UnitStatus(AccountOptions unit, ReplicaRecord? replica, StatusHealth health)
    {
        Unit = unit;
        Replica = replica;
        _health = health;
    }

    public AccountOptions Unit { get; }

    public string Account => Unit.Name;

    public string ReplicaName => Unit.Target.Name;

    /// <summary>Null until the first sync of this account to this replica.</summary>
    public ReplicaRecord? Replica { get; }

    public IReadOnlyList<FolderRecord> Folders { get; private init; } = [];

    /// <summary>Writes begun and not yet known to have landed, per primary folder.</summary>
    public IReadOnlyDictionary<string, int> Open { get; private init; } = new Dictionary<string, int>();

    public IReadOnlyDictionary<string, TroubleRecord> Troubles { get; private init; } = new Dictionary<string, TroubleRecord>();

    public IReadOnlyList<HoldRecord> Holds { get; private init; } = [];

    public ServiceRecord? Service { get; private init; }

    /// <summary>On a shared state: which worker holds this account's lease, and whether it renews it in time.</summary>
    public LeaseRecord? Lease { get; private init; }

    /// <summary>Messages per folder id.</summary>
    public IReadOnlyDictionary<long, int> MessageCounts { get; private init; } = new Dictionary<long, int>();

    public long Messages => MessageCounts.Values.Sum(c => (long)c);

    public DelayedWork? Delayed { get; private init; }

    public DateTimeOffset Now { get; private init; }

    public IReadOnlyList<HealthProblem> Problems { get; private set; } = [];

    public HealthLevel Level => HealthLevels.Worst(Problems);

    public bool ServiceAlive => _health.ServiceAlive;

    public string DescribeService() => _health.DescribeService();

    public int PendingWrites => Open.Values.Sum();

    public int Unsynced => Folders.Count(f => f.LastSyncedAt is null);

    /// <summary>The oldest change known on the primary and not yet on the replica; zero when none waits.</summary>
    public TimeSpan WorstLag => Folders.Select(f => f.DirtySince is { } s ? Now - s : TimeSpan.Zero).DefaultIfEmpty(TimeSpan.Zero).Max();

    /// <summary>"alice -> east", "alice", or "east": how status names this unit in a list.</summary>
    public string Label => !Unit.NamesReplica ? Unit.Name : Unit.Name.Length == 0 ? Unit.Target.Name : $"{Unit.Name} -> {Unit.Target.Name}";

    public static UnitStatus Read(StateStore store, AccountOptions unit, DateTimeOffset now, ServiceFacts service, TimeSpan maxLag)
    {
        var replica = store.Replicas.Find(unit.Target.Name, unit.Name);
        if (replica is null)
        {
            var health = new StatusHealth(null, now, service.Running, service.EverRan, service.Shared);
            var fresh = new UnitStatus(unit, null, health)
            {
                Now = now,
                Lease = service.Leases?.GetValueOrDefault(unit.Name),
                Problems = [new(service.Running ? "its first sync has not begun yet" : "never synced; run `observer sync` or `observer run`",
                    service.Running ? HealthLevel.Attention : HealthLevel.Down)],
            };
            fresh.Problems = [.. fresh.Problems, .. fresh.LeaseProblems(service)];
            return fresh;
        }
        var record = store.Service.Get(replica.Id);
        var folders = store.Folders.All(replica.Id);
        var counts = store.Messages.CountByFolder(replica.Id);
        var status = new UnitStatus(unit, replica, new StatusHealth(record, now, service.Running, service.EverRan, service.Shared))
        {
            Lease = service.Leases?.GetValueOrDefault(unit.Name),
            Folders = folders,
            Open = store.Journal.Open(replica.Id).GroupBy(j => j.Folder).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
            Troubles = store.Troubles.All(replica.Id).ToDictionary(t => t.Folder, StringComparer.Ordinal),
            Holds = store.Holds.All(replica.Id),
            Service = record,
            MessageCounts = folders.ToDictionary(f => f.Id, f => counts.GetValueOrDefault(f.Id)),
            Delayed = DelayedWork.Read(store, replica),
            Now = now,
        };
        status.Problems = [.. status.Diagnose(maxLag), .. status.LeaseProblems(service)];
        return status;
    }

    /// <summary>On a shared state, while workers run, an account no live worker holds waits to be taken over.</summary>
    private IEnumerable<HealthProblem> LeaseProblems(ServiceFacts service)
    {
        if (!service.Shared || !service.Running || Lease is { Live: true }) yield break;
        yield return new(Lease?.Owner is { } last ? $"no live worker holds its lease (its owner {last} stopped renewing; another takes it within State:LeaseTime)"
            : "no worker holds its lease yet", HealthLevel.Attention);
    }

    private List<HealthProblem> Diagnose(TimeSpan maxLag)
    {
        var caughtUp = Unsynced == 0 && PendingWrites == 0 && Folders.All(f => f.DirtySince is null);
        var problems = _health.Problems(Troubles.Values.ToList(), Holds, caughtUp);
        if (WorstLag > maxLag && problems.All(p => p.Level < HealthLevel.Down))
            problems.Add(new($"lagging {StatusCommand.FormatLag(WorstLag)} behind the primary, past Health:MaxLag ({StatusCommand.FormatLag(maxLag)})", HealthLevel.Attention));
        // Every account has an INBOX: none known means the first pass has not got that far.
        if (Folders.Count == 0 && problems.Count == 0)
            problems.Add(_health.ServiceAlive
                ? new("its first sync is under way", HealthLevel.Ok)
                : new("never synced; run `observer sync` or `observer run`", HealthLevel.Down));
        return problems;
    }
}

/// <summary>
/// Whether an `observer run` service is alive for this state, and whether one ever ran. On a shared state, the workers
/// and who holds each account's lease: a worker alive is one that renewed in time, on whichever box it runs.
/// </summary>
public sealed record ServiceFacts(bool Running, bool EverRan, IReadOnlyDictionary<string, LeaseRecord>? Leases = null, IReadOnlyList<WorkerRecord>? Workers = null)
{
    public bool Shared => Leases is not null;

    /// <param name="statePath">Where the state is: a service whose accounts are all polled has no fresh heartbeat, but its beacon.</param>
    public static ServiceFacts Read(StateStore store, DateTimeOffset now, string? statePath = null)
    {
        var records = store.Replicas.All().Select(r => store.Service.Get(r.Id)).Where(s => s is not null).ToList();
        if (store.Shared)
        {
            var workers = store.Leases.Workers();
            return new ServiceFacts(workers.Any(w => w.Live), workers.Count > 0 || records.Count > 0,
                store.Leases.All().ToDictionary(l => l.Account, StringComparer.Ordinal), workers);
        }
        return new ServiceFacts(records.Any(s => StatusHealth.IsAlive(s, now)) || (statePath is not null && Hosting.ServiceBeacon.Fresh(statePath, now)), records.Count > 0);
    }
}

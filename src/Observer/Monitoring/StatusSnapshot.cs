using Observer.Configuration;
using Observer.State;

namespace Observer.Monitoring;

/// <summary>
/// Everything `observer status`, /healthz, /metrics and the status page show, read from the state database in
/// one go: each account's replicas, accounts taken out of the settings, and servers a promotion has not compared yet.
/// </summary>
public sealed record StatusSnapshot(string StatePath, string PrimaryName, string? Promoted, IReadOnlyList<UnitStatus> Units, IReadOnlyList<string> GoneAccounts,
    IReadOnlyList<FailoverCheck> PendingChecks, TimeSpan MaxLag, DateTimeOffset Now)
{
    /// <summary>The workers sharing the state (PostgreSQL), live or not; null on a state of one box.</summary>
    public IReadOnlyList<WorkerRecord>? Workers { get; init; }

    /// <summary>Accounts held per worker, by lease, counting only leases renewed in time.</summary>
    public int HeldBy(string worker) => Units.Where(u => u.Lease is { Live: true } l && l.Owner == worker).Select(u => u.Account).Distinct().Count();

    /// <summary>The worst of every unit's health; settings with no account at all need attention.</summary>
    public HealthLevel Level => Units.Count == 0 ? HealthLevel.Attention : Units.Max(u => u.Level);

    public static StatusSnapshot Read(StateStore store, ObserverOptions options, IReadOnlyList<AccountOptions> units, TimeSpan maxLag, DateTimeOffset now, bool everyAccount = true)
    {
        var service = ServiceFacts.Read(store, now, options.State.Location.Shared ? null : options.State.Path);
        var configured = options.EffectiveAccounts.Select(a => a.Name).ToHashSet(StringComparer.Ordinal);
        var replicaNames = options.Units.Select(u => u.Target.Name).ToHashSet(StringComparer.Ordinal);
        // An account taken out of the settings keeps its state (its maps save a full comparison if it comes back).
        var gone = everyAccount
            ? store.Replicas.All().Where(r => replicaNames.Contains(r.Name) && !configured.Contains(r.Account)).Select(r => r.Account).Distinct().ToList()
            : [];
        return new StatusSnapshot(options.State.Describe, options.CurrentPrimaryName, options.Promoted,
            units.Select(u => UnitStatus.Read(store, u, now, service, maxLag)).ToList(), gone, store.Failovers.Pending(), maxLag, now) { Workers = service.Workers };
    }

    /// <summary>Reads the state at <paramref name="path"/> read-only; null when there is none yet (nothing ran).</summary>
    public static StatusSnapshot? TryRead(ObserverOptions options, IReadOnlyList<AccountOptions> units, TimeProvider time, bool everyAccount = true)
    {
        if (!options.State.Location.MayExist) return null;
        using var store = StateStore.OpenReadOnly(options.State.Location, time);
        return Read(store, options, units, options.Health.MaxLag, time.GetUtcNow(), everyAccount);
    }
}

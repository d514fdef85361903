using Observer.Commands;
using Observer.Replication;

namespace Observer.Monitoring;

/// <summary>
/// /healthz: 200 while every replica is connected and within the lag budget (Health:MaxLag), 503 otherwise; for a
/// load balancer or a probe. A folder in trouble counts once its waiting change is older than the budget.
/// </summary>
public static class HealthCheck
{
    public static (bool Healthy, string Body) Evaluate(StatusSnapshot? snapshot)
    {
        if (snapshot is null) return (false, "down: no state database yet\n");
        var failing = new List<string>();
        foreach (var unit in snapshot.Units)
        {
            if (unit.Level == HealthLevel.Down)
                failing.Add($"{Name(unit)}: {unit.Problems.First(p => p.Level == HealthLevel.Down).Text}");
            else if (unit.WorstLag > snapshot.MaxLag)
                failing.Add($"{Name(unit)}: lagging {StatusCommand.FormatLag(unit.WorstLag)}, past Health:MaxLag ({StatusCommand.FormatLag(snapshot.MaxLag)})");
        }
        if (snapshot.Units.Count == 0) failing.Add("the settings name no accounts");
        return failing.Count == 0
            ? (true, $"ok: {Counted.Of(snapshot.Units.Count, "replica")} connected and within {StatusCommand.FormatLag(snapshot.MaxLag)} of the primary\n")
            : (false, string.Join("\n", failing) + "\n");
    }

    private static string Name(UnitStatus unit) => unit.Label.Length > 0 ? unit.Label : unit.ReplicaName;
}

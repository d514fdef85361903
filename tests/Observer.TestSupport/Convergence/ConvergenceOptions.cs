namespace Observer.TestSupport;

/// <summary>The size and shape of one run of the convergence scenario. The defaults fit CI: about two minutes a pair.</summary>
public sealed record ConvergenceOptions(ServerKind Primary, ServerKind Replica, int Seed)
{
    /// <summary>How long the users, the probes and the faults are active.</summary>
    public TimeSpan Activity { get; init; } = TimeSpan.FromSeconds(75);

    /// <summary>Concurrent mail clients of the user, besides the one that keeps "Churn" small.</summary>
    public int Clients { get; init; } = 3;

    /// <summary>Pause of each client between two changes: a random time up to this.</summary>
    public TimeSpan MaxPause { get; init; } = TimeSpan.FromMilliseconds(1200);

    /// <summary>Messages the primary holds before observer first starts.</summary>
    public int InitialMessages { get; init; } = 120;

    public TimeSpan ProbeEvery { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How soon a probe must reach the replica when the primary pushes (NOTIFY or IDLE), outside faults.</summary>
    public TimeSpan ProbeBudget { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>About one SIGKILL of observer per this much activity, and at least one.</summary>
    public TimeSpan KillEvery { get; init; } = TimeSpan.FromSeconds(40);

    /// <summary>About one connection cut per this much activity.</summary>
    public TimeSpan CutEvery { get; init; } = TimeSpan.FromSeconds(12);

    /// <summary>Also stall connections now and then (the soak's extra fault).</summary>
    public bool Stalls { get; init; }

    /// <summary>How long the replica may take to equal the primary once the activity stops.</summary>
    public TimeSpan ConvergeWithin { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>After convergence, observer's CPU is measured over this quiet time.</summary>
    public TimeSpan Quiet { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>A masked log line may occur this often in a minute after the activity stopped.</summary>
    public int MaxRepeatsPerMinute { get; init; } = 5;

    /// <summary>Observer settings on top of the scenario's own (such as "Logging:LogLevel:Observer" = "Debug").</summary>
    public IReadOnlyDictionary<string, string> ExtraSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>Progress lines, for a person watching.</summary>
    public Action<string> Progress { get; init; } = _ => { };

    public string Pair => $"{Primary}\u2192{Replica}";
}

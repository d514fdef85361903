namespace Observer.Monitoring;

/// <summary>
/// How `observer status`, /healthz and the status page judge a replica; the value is status's exit code, in the
/// order of a monitoring check's (Nagios: OK, WARNING, CRITICAL).
/// </summary>
public enum HealthLevel
{
    /// <summary>Replicating, within the lag budget, nothing in trouble or held.</summary>
    Ok = 0,

    /// <summary>Running and connected, but lagging past the budget, a folder in trouble, or deletions held.</summary>
    Attention = 1,

    /// <summary>The service is not running, or a server is not connected.</summary>
    Down = 2,
}

/// <summary>Something status reports, and how much it weighs.</summary>
public sealed record HealthProblem(string Text, HealthLevel Level);

public static class HealthLevels
{
    public static HealthLevel Worst(IEnumerable<HealthProblem> problems) => problems.Select(p => p.Level).DefaultIfEmpty(HealthLevel.Ok).Max();

    /// <summary>The word status's JSON and the page use.</summary>
    public static string Word(this HealthLevel level) => level switch
    {
        HealthLevel.Ok => "ok",
        HealthLevel.Attention => "attention",
        _ => "down",
    };

    /// <summary>The start of status's health line.</summary>
    public static string Heading(this HealthLevel level) => level switch
    {
        HealthLevel.Ok => "ok",
        HealthLevel.Attention => "needs attention",
        _ => "not running or not connected",
    };
}

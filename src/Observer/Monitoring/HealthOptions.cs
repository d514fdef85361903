namespace Observer.Monitoring;

/// <summary>The Health section: what `observer status`, /healthz and the status page call healthy.</summary>
public sealed class HealthOptions
{
    /// <summary>
    /// The lag budget: a change known on the primary and not yet on the replica for longer than this makes a
    /// replica need attention. Replication normally lags about a second; a burst of mail or a large first
    /// copy may take minutes.
    /// </summary>
    public TimeSpan MaxLag { get; set; } = TimeSpan.FromMinutes(2);
}

/// <summary>The Http section: the loopback endpoint for /metrics, /healthz and the status page.</summary>
public sealed class HttpOptions
{
    /// <summary>For example http://127.0.0.1:9477; off when unset. Only `observer run` serves it.</summary>
    public string? Url { get; set; }
}

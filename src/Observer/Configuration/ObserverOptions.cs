using Observer.Replication;

namespace Observer.Configuration;

/// <summary>All of observer's settings, bound from appsettings.json, OBSERVER_ variables and the command line.</summary>
public sealed class ObserverOptions
{
    public EndpointOptions Primary { get; set; } = new();
    public EndpointOptions Replica { get; set; } = new();
    public StateOptions State { get; set; } = new();
    public ReplicationOptions Replication { get; set; } = new();
    public ReconnectOptions Reconnect { get; set; } = new();
}

public sealed class StateOptions
{
    /// <summary>The SQLite state database. Created with mode 0600.</summary>
    public string Path { get; set; } = "observer.db";

    /// <summary>Where large messages are spooled while they are copied (files are 0600 and unlinked at once).</summary>
    public string? SpoolDirectory { get; set; }
}

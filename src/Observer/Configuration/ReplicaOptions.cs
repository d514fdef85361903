using Observer.Replication;

namespace Observer.Configuration;

/// <summary>
/// One entry of the Replicas list: a replica's servers and logins (the keys of the Replica section), its name and its
/// policy. Every account is copied to every replica; an account's own Replica keys (its Username) apply to each.
/// </summary>
public sealed class ReplicaOptions
{
    public string Name { get; set; } = "";

    public ReplicaPolicy Policy { get; set; } = ReplicaPolicy.Mirror;

    /// <summary>For a Delayed replica: how old an expunge or a folder deletion must be before it is applied.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>For an Archive: a keyword set on the copies the primary expunged (for example $Expunged); none when unset.</summary>
    public string? ArchiveKeyword { get; set; }

    /// <summary>The entry's server and login settings; not a key of its own (they are the entry's other keys).</summary>
    public EndpointOptions Server { get; private set; } = new();

    /// <summary>Where the entry was given, for errors: Replicas:1.</summary>
    public string Key { get; private set; } = "";

    public ReplicaTarget Target => new(Name, Policy, Delay, ArchiveKeyword);

    /// <summary>The keys of an entry that are not server settings.</summary>
    public static readonly string[] PolicyKeys = [nameof(Name), nameof(Policy), nameof(Delay), nameof(ArchiveKeyword)];

    public static ReplicaOptions At(string key, EndpointOptions server) => new() { Key = key, Server = server };

    /// <summary>The settings' primary as a replica of the server promoted in its place: a mirror, so that failback can follow.</summary>
    public static ReplicaOptions FormerPrimary(string name, EndpointOptions server) => new() { Key = "Primary", Name = name, Server = server };
}

/// <summary>One account's login on one replica: the replica's settings with the account's own Replica keys over them.</summary>
public sealed record ReplicaLogin(ReplicaOptions Replica, EndpointOptions Server);

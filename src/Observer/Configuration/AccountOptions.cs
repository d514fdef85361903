using Observer.Replication;

namespace Observer.Configuration;

/// <summary>
/// One account replicated by the service (an entry of the Accounts list). Its logins start from the
/// top-level Primary and Replica sections, and any key the entry gives overrides the inherited one.
/// </summary>
public sealed class AccountOptions
{
    /// <summary>The account's name in the state, in logs and on the command line (--account).</summary>
    public string Name { get; set; } = "";

    public EndpointOptions Primary { get; set; } = new();

    public EndpointOptions Replica { get; set; } = new();

    /// <summary>Where the entry was given, for error messages: Accounts:0, or accounts.txt line 3.</summary>
    public string Key { get; set; } = "";

    /// <summary>A line of the AccountsFile: its servers and passwords are the Primary and Replica sections', with nothing of its own.</summary>
    public bool FromFile { get; set; }

    /// <summary>With a Replicas list: the account's login on each replica, bound at start (its Replica keys over each entry's).</summary>
    public List<ReplicaLogin> ReplicaLogins { get; } = [];

    /// <summary>In a unit of the service (one account, one replica): which replica, and its policy.</summary>
    public ReplicaTarget Target { get; private init; } = ReplicaTarget.Default;

    /// <summary>In a unit: whether the settings list replicas, so that logs and output name the replica.</summary>
    public bool NamesReplica { get; private init; }

    /// <summary>What the service keys a unit by: the account, and the replica when the settings list them.</summary>
    public string Id => NamesReplica ? $"{Name}/{Target.Name}" : Name;

    /// <summary>This account's unit for one replica; after a promotion, <paramref name="primary"/> is the promoted replica's login.</summary>
    public AccountOptions For(ReplicaLogin login, bool namesReplica, EndpointOptions? primary = null) => new()
    {
        Name = Name, Key = Key, FromFile = FromFile, Primary = primary ?? Primary, Replica = login.Server, Target = login.Replica.Target, NamesReplica = namesReplica,
    };

    /// <summary>Whether a reload changed nothing that this account's replication depends on.</summary>
    public bool SameAs(AccountOptions other) => Name == other.Name && Target == other.Target && Primary.SameAs(other.Primary) && Replica.SameAs(other.Replica);

    /// <summary>The name shown in errors, whether or not it was given.</summary>
    public string Label => (Name.Length > 0 ? $"{Key} ({Name})" : Key) + (NamesReplica ? $" on replica {Target.Name}" : "");
}

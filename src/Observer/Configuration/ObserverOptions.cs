using Observer.State;
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
    public Monitoring.HealthOptions Health { get; set; } = new();
    public Monitoring.HttpOptions Http { get; set; } = new();

    /// <summary>
    /// The accounts one service replicates, each with its logins inherited from <see cref="Primary"/> and
    /// <see cref="Replica"/>. Empty means one account, given by the Primary and Replica sections themselves.
    /// </summary>
    public List<AccountOptions> Accounts { get; set; } = [];

    /// <summary>
    /// The replicas every account is copied to, each with its own servers, logins and policy. Empty means one mirror,
    /// given by the Replica section and named by Replication:ReplicaName ("replica").
    /// </summary>
    public List<ReplicaOptions> Replicas { get; set; } = [];

    /// <summary>Whether the settings list replicas, rather than describing one in the Replica section.</summary>
    public bool HasReplicaList => Replicas.Count > 0;

    /// <summary>
    /// The replica `observer promote` made the primary, read from the state database with the settings (not a setting):
    /// then that replica's server is read from, and the settings' Primary is written to as a mirror named
    /// Replication:PrimaryName. Null while the settings' own primary is the primary.
    /// </summary>
    public string? Promoted { get; private set; }

    public void PromotedInState(string? replicaName) => Promoted = replicaName;

    /// <summary>The name of the server replication reads from now: the promoted replica's, or Replication:PrimaryName.</summary>
    public string CurrentPrimaryName => Promoted ?? Replication.PrimaryName;

    /// <summary>Whether units are named by their replica: with a Replicas list, and after a promotion (the old primary is a replica then).</summary>
    public bool NamesReplicas => HasReplicaList || Promoted is not null;

    /// <summary>
    /// Every account with every replica: what the service runs, one engine each. An account of several replicas
    /// reads the primary once per replica, so a replica that is down or slow never holds the others back.
    /// </summary>
    public IReadOnlyList<AccountOptions> Units => Promoted is { } promoted && ConfiguredReplicaNames.Contains(promoted)
        ? EffectiveAccounts.SelectMany(account => PromotedUnitsOf(account, promoted)).ToList()
        : ConfiguredUnits;

    /// <summary>The units as the settings describe them, before any promotion: what the settings are checked against.</summary>
    public IReadOnlyList<AccountOptions> ConfiguredUnits => EffectiveAccounts.SelectMany(account => LoginsOf(account).Select(login => account.For(login, HasReplicaList))).ToList();

    /// <summary>The replicas' names now (after a promotion, the old primary's is one of them and the promoted one's is not).</summary>
    public IReadOnlyList<string> ReplicaNames => Units.Select(u => u.Target.Name).Distinct().ToList();

    /// <summary>The replicas' names in the settings.</summary>
    public IReadOnlyList<string> ConfiguredReplicaNames => HasReplicaList ? Replicas.Select(r => r.Name).ToList() : [Replication.ReplicaName];

    /// <summary>Whether the service runs more than one engine (several accounts or several replicas), through the scheduler.</summary>
    public bool RunsSeveral => HasAccountList || NamesReplicas;

    /// <summary>After a promotion: the promoted replica's login is the account's primary; the old primary is a mirror, beside the other replicas.</summary>
    private IEnumerable<AccountOptions> PromotedUnitsOf(AccountOptions account, string promoted)
    {
        var logins = LoginsOf(account);
        var chosen = logins.First(l => l.Replica.Name == promoted);
        var former = new ReplicaLogin(ReplicaOptions.FormerPrimary(Replication.PrimaryName, account.Primary), account.Primary);
        return logins.Where(l => l != chosen).Prepend(former).Select(login => account.For(login, namesReplica: true, primary: chosen.Server));
    }

    private IReadOnlyList<ReplicaLogin> LoginsOf(AccountOptions account)
    {
        if (HasAccountList && HasReplicaList) return account.ReplicaLogins;
        if (HasReplicaList) return Replicas.Select(r => new ReplicaLogin(r, r.Server)).ToList();
        var single = ReplicaOptions.At("Replica", account.Replica);
        single.Name = Replication.ReplicaName;
        return [new ReplicaLogin(single, account.Replica)];
    }

    /// <summary>More accounts, one a line (<see cref="Configuration.AccountsFile"/>); read with the settings, and again when it changes.</summary>
    public string? AccountsFile { get; set; }

    /// <summary>Whether the settings list accounts, rather than describing one account in Primary and Replica.</summary>
    public bool HasAccountList => Accounts.Count > 0 || !string.IsNullOrWhiteSpace(AccountsFile);

    /// <summary>The accounts to replicate: the list, or the one account of the Primary and Replica sections (named "").</summary>
    public IReadOnlyList<AccountOptions> EffectiveAccounts =>
        HasAccountList ? Accounts : [new AccountOptions { Primary = Primary, Replica = Replica }];
}

public sealed class StateOptions
{
    /// <summary>Sqlite (the default: one file on this box) or PostgreSql (shared by several workers, each leasing accounts).</summary>
    public StateProvider Provider { get; set; } = StateProvider.Sqlite;

    /// <summary>The SQLite state database. Created with mode 0600.</summary>
    public string Path { get; set; } = "observer.db";

    /// <summary>PostgreSQL's connection string (Host=...;Port=...;Username=...;Database=...), best without its password.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The PostgreSQL password, from the environment (OBSERVER_State__Password); never logged.</summary>
    public string? Password { get; set; }

    /// <summary>A file whose first line is the PostgreSQL password (mode 0600).</summary>
    public string? PasswordFile { get; set; }

    /// <summary>How long a worker's lease on an account lasts without renewal: how soon the others take over a dead worker's accounts.</summary>
    public TimeSpan LeaseTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How this worker is named in the leases and in status; by default host:pid.</summary>
    public string? WorkerName { get; set; }

    /// <summary>How messages name the state: its file, or its PostgreSQL database without the password.</summary>
    public string Describe => Provider == StateProvider.PostgreSql ? new StateLocation(Provider, Path, ConnectionString ?? "").Describe : Path;

    /// <summary>Where the state lives, with the password put into the connection string (only here, never in a log).</summary>
    public StateLocation Location => Provider == StateProvider.PostgreSql
        ? new StateLocation(StateProvider.PostgreSql, Path, StateLocation.WithPassword(ConnectionString ?? "", ResolvePassword()))
        : StateLocation.File(Path);

    private string? ResolvePassword()
    {
        if (!string.IsNullOrEmpty(PasswordFile))
        {
            var lines = File.ReadAllLines(PasswordFile);
            return lines.Length > 0 ? lines[0].TrimEnd('\r') : "";
        }
        return Password;
    }

    /// <summary>Where large messages are spooled while they are copied (files are 0600 and unlinked at once).</summary>
    public string? SpoolDirectory { get; set; }
}

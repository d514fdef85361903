using Microsoft.Extensions.Logging;
using Observer.Cli;
using Observer.Configuration;
using Observer.MailKit;
using Observer.Replication;
using Observer.State;

namespace Observer.Hosting;

/// <summary>
/// One account's replication to one replica: its engine, with its own logins, over the state database every account shares.
/// <paramref name="Replica"/> names the replica when the settings list replicas.
/// </summary>
public sealed record AccountEngine(string Name, ReplicationEngine Engine, string? Replica = null)
{
    /// <summary>What the scheduler keys it by (as <see cref="AccountOptions.Id"/>).</summary>
    public string Id => Replica is null ? Name : $"{Name}/{Replica}";

    /// <summary>How output and logs name it: "alice", "alice on replica standby", "replica standby".</summary>
    public string Label => (Name, Replica) switch
    {
        (_, null) => Name,
        ("", _) => $"replica {Replica}",
        _ => $"{Name} on replica {Replica}",
    };

    /// <summary>Tags every log line written while it runs with the account's name and its replica's; nothing for the single account of the settings.</summary>
    public IDisposable? BeginScope(ILogger logger) => (Name, Replica) switch
    {
        ("", null) => null,
        (_, null) => logger.BeginScope("account {Account}", Name),
        ("", _) => logger.BeginScope("replica {Replica}", Replica),
        _ => logger.BeginScope("account {Account} replica {Replica}", Name, Replica),
    };
}

/// <summary>The engines of every account the settings name (one, when they have no Accounts list).</summary>
public sealed class AccountEngines
{
    private readonly ObserverOptions _options;
    private readonly StateStore _store;
    private readonly ILoggerFactory _loggers;
    private readonly TimeProvider _time;
    private readonly ServerBudgets _budgets;

    private readonly LeaseKeeper? _leases;

    /// <param name="leases">On a shared state, the worker's leases: each account's replica writes are fenced by its own.</param>
    public AccountEngines(ObserverOptions options, StateStore store, ILoggerFactory loggers, TimeProvider time, LeaseKeeper? leases = null)
    {
        (_options, _store, _loggers, _time, _leases) = (options, store, loggers, time, leases);
        _budgets = new ServerBudgets(options.Replication.ConnectionBudget, options.Replication.ConnectionsPerAccount * 2);
        All = options.Units.Select(Build).ToList();
        HasAccountList = options.HasAccountList;
        RunsSeveral = options.RunsSeveral;
    }

    /// <summary>An engine for one account and replica, with the replication settings the service started with (also for an account added later).</summary>
    public AccountEngine Build(AccountOptions account) => new(account.Name,
        new ReplicationEngine(Sessions(account), _store, _options.Replication, _options.Reconnect, account.Primary.Describe(), account.Replica.Describe(), _loggers, _time)
        {
            Account = account.Name,
            Replica = account.Target,
        }, account.NamesReplica ? account.Target.Name : null);

    private IMailSessionFactory Sessions(AccountOptions account)
    {
        IMailSessionFactory sessions = new MailKitMailSessionFactory(account.Primary, account.Replica, _loggers, _time, _options.State.SpoolDirectory,
            _budgets.For("primary", account.Primary), _budgets.For("replica", account.Replica));
        return _leases is { } leases ? new FencedMailSessionFactory(sessions, () => leases.Remaining(account.Name), _time) : sessions;
    }

    /// <summary>Splits every server's connection budget among <paramref name="workers"/> workers sharing the state; returns this one's share.</summary>
    public int ShareBudgets(int workers)
    {
        _budgets.Share(workers);
        return _budgets.Limit;
    }

    public IReadOnlyList<AccountEngine> All { get; }

    /// <summary>Whether the settings list accounts; otherwise <see cref="All"/> holds the one account of Primary and Replica.</summary>
    public bool HasAccountList { get; }

    /// <summary>Whether there is more than one engine to run (several accounts or several replicas), through the scheduler.</summary>
    public bool RunsSeveral { get; }

    /// <summary>The account and replica named on the command line, or every one when none is.</summary>
    public IReadOnlyList<AccountEngine> Select(string? name, string? replica = null)
    {
        var account = name is null ? null : Named(name, All.Select(a => a.Name).Distinct(), HasAccountList);
        var replicaName = replica is null ? null : NamedReplica(replica, All.Select(a => a.Replica), RunsSeveral && All.Any(a => a.Replica is not null));
        return All.Where(a => (account is null || a.Name == account) && (replicaName is null || a.Replica == replicaName)).ToList();
    }

    /// <summary>Checks a --replica name against the settings; a one-line usage error when it names nothing.</summary>
    public static string NamedReplica(string name, IEnumerable<string?> configured, bool hasReplicaList)
    {
        if (!hasReplicaList) throw new UsageException($"--replica {name}: these settings have no Replicas list, so there is only one replica; leave out --replica");
        var names = configured.OfType<string>().Distinct().ToList();
        return names.FirstOrDefault(n => n.Equals(name, StringComparison.OrdinalIgnoreCase))
            ?? throw new UsageException($"--replica {name}: no such replica in the settings; the replicas are {string.Join(", ", names)}");
    }

    /// <summary>Checks an --account name against the settings; a one-line usage error when it names nothing.</summary>
    public static string Named(string name, IEnumerable<string> configured, bool hasAccountList)
    {
        if (!hasAccountList) throw new UsageException($"--account {name}: these settings have no Accounts list, so there is only one account; leave out --account");
        var names = configured.ToList();
        return names.FirstOrDefault(n => n.Equals(name, StringComparison.OrdinalIgnoreCase))
            ?? throw new UsageException(names.Count == 0
                ? $"--account {name}: the settings name no accounts yet; add them to Accounts or the AccountsFile"
                : $"--account {name}: no such account in the settings; the accounts are {string.Join(", ", names)}");
    }
}

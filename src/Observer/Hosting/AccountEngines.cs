using Microsoft.Extensions.Logging;
using Observer.Cli;
using Observer.Configuration;
using Observer.MailKit;
using Observer.Replication;
using Observer.State;

namespace Observer.Hosting;

/// <summary>One account's replication: its engine, with its own logins, over the state database every account shares.</summary>
public sealed record AccountEngine(string Name, ReplicationEngine Engine)
{
    /// <summary>Tags every log line written while it runs with the account's name; nothing for the single account of the settings.</summary>
    public IDisposable? BeginScope(ILogger logger) => Name.Length == 0 ? null : logger.BeginScope("account {Account}", Name);
}

/// <summary>The engines of every account the settings name (one, when they have no Accounts list).</summary>
public sealed class AccountEngines
{
    private readonly ObserverOptions _options;
    private readonly StateStore _store;
    private readonly ILoggerFactory _loggers;
    private readonly TimeProvider _time;
    private readonly ServerBudgets _budgets;

    public AccountEngines(ObserverOptions options, StateStore store, ILoggerFactory loggers, TimeProvider time)
    {
        (_options, _store, _loggers, _time) = (options, store, loggers, time);
        _budgets = new ServerBudgets(options.Replication.ConnectionBudget);
        All = options.EffectiveAccounts.Select(Build).ToList();
        HasAccountList = options.HasAccountList;
    }

    /// <summary>An engine for one account, with the replication settings the service started with (also for an account added later).</summary>
    public AccountEngine Build(AccountOptions account) => new(account.Name,
        new ReplicationEngine(new MailKitMailSessionFactory(account.Primary, account.Replica, _loggers, _time, _options.State.SpoolDirectory,
                _budgets.For("primary", account.Primary), _budgets.For("replica", account.Replica)),
            _store, _options.Replication, _options.Reconnect, account.Primary.Describe(), account.Replica.Describe(), _loggers, _time)
        {
            Account = account.Name,
        });

    public IReadOnlyList<AccountEngine> All { get; }

    /// <summary>Whether the settings list accounts; otherwise <see cref="All"/> holds the one account of Primary and Replica.</summary>
    public bool HasAccountList { get; }

    /// <summary>The account named on the command line, or every account when none is.</summary>
    public IReadOnlyList<AccountEngine> Select(string? name) => name is null ? All : [All.Single(a => a.Name == Named(name, All.Select(a => a.Name), HasAccountList))];

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

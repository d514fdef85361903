using Observer.MailKit;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Observer.Mail;
using Observer.State;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

/// <summary>The real engine, in-process, between fresh accounts on the Dovecot pair.</summary>
internal sealed class EngineHarness : IAsyncDisposable
{
    private readonly string _directory;
    private CancellationTokenSource? _live;
    private Task? _running;

    private EngineHarness(PairAccounts accounts, ReplicationOptions options, string directory, StateStore store, TimeProvider? imapClock, bool trace, ReplicaTarget? replica)
    {
        ReplicaTarget = replica;
        Accounts = accounts;
        Options = options;
        _directory = directory;
        Loggers = LoggerFactory.Create(b => b.AddProvider(Log).SetMinimumLevel(trace ? LogLevel.Trace : LogLevel.Debug));
        IMailSessionFactory factory = new MailKitMailSessionFactory(Endpoint(accounts.Pair.Primary, accounts.Primary), Endpoint(accounts.Pair.Replica, accounts.Replica), Loggers, imapClock);
        Sessions = new RecordingSessionFactory(factory);
        Store = store;
        Engine = NewEngine();
    }

    public PairAccounts Accounts { get; }
    public ReplicationOptions Options { get; }
    public StateStore Store { get; }
    public CapturingLogger Log { get; } = new();
    public ILoggerFactory Loggers { get; }
    public RecordingSessionFactory Sessions { get; }
    public ReplicationEngine Engine { get; private set; }

    /// <summary>The replica's name and policy; the settings' single mirror when null.</summary>
    public ReplicaTarget? ReplicaTarget { get; }
    public SessionLedger Replica => Sessions.Replica;

    /// <param name="imapClock">The clock of every IMAP session (watchdogs, IDLE re-issue), to test long idle periods.</param>
    /// <param name="trace">Capture the protocol trace too.</param>
    /// <param name="replica">The replica's policy (delayed, archive); a mirror when null.</param>
    public static async Task<EngineHarness> CreateAsync(Action<ReplicationOptions>? configure = null, ServerPair? pair = null,
        TimeProvider? imapClock = null, bool trace = false, ReplicaTarget? replica = null)
    {
        var options = new ReplicationOptions
        {
            PollInterval = TimeSpan.FromSeconds(1),
            MoveWindow = TimeSpan.FromSeconds(1),
            FolderDeleteDelay = TimeSpan.FromSeconds(2),
            ReconcileInterval = TimeSpan.FromMinutes(10),
            TroubleRetryDelay = TimeSpan.FromSeconds(1),
        };
        configure?.Invoke(options);
        var accounts = await (pair ?? PairFixture.Pair).NewAccountsAsync();
        var directory = Directory.CreateTempSubdirectory("observer-engine-").FullName;
        return new EngineHarness(accounts, options, directory, await TestStateStores.OpenAsync(directory), imapClock, trace, replica);
    }

    /// <summary>A fresh engine on the same state, as after a restart.</summary>
    public void Restart() => Engine = NewEngine();

    private ReplicationEngine NewEngine() =>
        new(Sessions, Store, Options, new ReconnectOptions { InitialDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1), SyncAttempts = 2 },
            "primary", "replica", Loggers)
        {
            Replica = ReplicaTarget ?? new ReplicaTarget(Options.ReplicaName),
        };

    public Task<PassResult> SyncAsync(bool full = false) => Engine.SyncOnceAsync(full, CancellationToken.None);

    /// <summary>Starts `run` in the background and waits until its first pass is done and it is watching.</summary>
    public async Task StartLiveAsync()
    {
        _live = new CancellationTokenSource();
        _running = Engine.RunAsync(_live.Token);
        await Eventually.HoldsAsync(() => Task.FromResult(Log.Lines.Any(l => l.Contains("pass complete")) || _running.IsCompleted), TimeSpan.FromSeconds(30));
        if (_running.IsCompleted) await _running;
        // Give the watchers a moment to connect and subscribe.
        await Task.Delay(TimeSpan.FromSeconds(1));
    }

    public async Task StopLiveAsync()
    {
        if (_live is null || _running is null) return;
        await _live.CancelAsync();
        await _running;
        _live = null;
    }

    public Task ConvergesAsync(int seconds = 30, bool subscriptions = true) => Eventually.ConvergesAsync(Accounts, TimeSpan.FromSeconds(seconds), subscriptions);

    private static EndpointOptions Endpoint(TestServer server, TestAccount account) => new()
    {
        Host = server.Host,
        Port = server.Port,
        Security = ImapSecurity.None,
        Username = account.User,
        Password = account.Password,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        CommandTimeout = TimeSpan.FromSeconds(30),
    };

    public async ValueTask DisposeAsync()
    {
        await StopLiveAsync();
        Store.Dispose();
        Loggers.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}

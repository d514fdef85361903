using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Observer.Mail;
using Observer.State;
using Observer.TestSupport;

namespace Observer.Replication.Tests.InMemory;

/// <summary>The engine between two in-memory servers, on a state database of its own: a pass takes milliseconds.</summary>
public sealed class InMemoryPair : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("observer-fast-").FullName;
    private CancellationTokenSource? _live;
    private Task? _running;

    public InMemoryPair(SessionFeatures primaryFeatures, SessionFeatures replicaFeatures, Action<ReplicationOptions>? configure = null)
    {
        // UIDVALIDITY ranges apart, so that a UID taken from the wrong side can never pass for the right one.
        Primary = new InMemoryMailServer("primary", primaryFeatures, firstValidity: 1000);
        Replica = new InMemoryMailServer("replica", replicaFeatures, firstValidity: 5000);
        Sessions = new InMemorySessionFactory(Primary, Replica);
        Options = new ReplicationOptions
        {
            PollInterval = TimeSpan.FromMilliseconds(200),
            MoveWindow = TimeSpan.FromMilliseconds(200),
            FolderDeleteDelay = TimeSpan.FromMilliseconds(200),
            TroubleRetryDelay = TimeSpan.FromMilliseconds(200),
        };
        configure?.Invoke(Options);
        Loggers = LoggerFactory.Create(b => b.AddProvider(Log).SetMinimumLevel(LogLevel.Debug));
        Store = StateStore.Open(Path.Combine(_directory, "state.db"));
        Engine = NewEngine();
    }

    public InMemoryMailServer Primary { get; }
    public InMemoryMailServer Replica { get; }
    public InMemorySessionFactory Sessions { get; }
    public ReplicationOptions Options { get; }
    public CapturingLogger Log { get; } = new();
    public ILoggerFactory Loggers { get; }
    public StateStore Store { get; }
    public ReplicationEngine Engine { get; private set; }
    public long ReplicaId => Store.Replicas.Find("replica")!.Id;

    public Task<PassResult> SyncAsync(bool full = false) => Engine.SyncOnceAsync(full, CancellationToken.None);

    /// <summary>A fresh engine on the same state, as after a restart.</summary>
    public void Restart() => Engine = NewEngine();

    /// <summary>Starts `run` and waits for its first pass.</summary>
    public async Task StartLiveAsync()
    {
        _live = new CancellationTokenSource();
        _running = Engine.RunAsync(_live.Token);
        await Eventually.HoldsAsync(() => Task.FromResult(Log.Lines.Any(l => l.Contains("pass complete", StringComparison.Ordinal)) || _running.IsCompleted), TimeSpan.FromSeconds(10));
        if (_running.IsCompleted) await _running;
    }

    /// <summary>Waits until the replica holds what the primary holds.</summary>
    public Task ConvergesAsync(int seconds = 10) =>
        Eventually.HoldsAsync(() => Task.FromResult(Differences().Count == 0), TimeSpan.FromSeconds(seconds), () => Task.FromResult(string.Join("; ", Differences())));

    /// <summary>Every folder and message that differs: bytes (MD5), flags and internal date, by folder name.</summary>
    public IReadOnlyList<string> Differences()
    {
        lock (Primary.Sync)
        lock (Replica.Sync)
        {
            var problems = new List<string>();
            foreach (var name in Primary.Folders.Union(Replica.Folders).Order(StringComparer.Ordinal))
            {
                if (!Replica.Folders.Contains(name)) { problems.Add($"{name}: only on the primary"); continue; }
                if (!Primary.Folders.Contains(name)) { problems.Add($"{name}: only on the replica"); continue; }
                var primary = Contents(Primary.Find(name));
                var replica = Contents(Replica.Find(name));
                if (!primary.SequenceEqual(replica)) problems.Add($"{name}: primary [{string.Join(", ", primary)}] replica [{string.Join(", ", replica)}]");
            }
            return problems;
        }
    }

    private static List<string> Contents(InMemoryMailbox mailbox) =>
        mailbox.Messages.Select(m => $"{m.Md5[..8]} ({string.Join(' ', m.Flags.All.Order(StringComparer.OrdinalIgnoreCase))}) {m.InternalDate.ToUnixTimeSeconds()}")
            .Order(StringComparer.Ordinal).ToList();

    private ReplicationEngine NewEngine() =>
        new(Sessions, Store, Options, new ReconnectOptions { InitialDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(200), SyncAttempts = 3 },
            "primary", "replica", Loggers);

    public async ValueTask DisposeAsync()
    {
        if (_live is not null && _running is not null)
        {
            await _live.CancelAsync();
            await _running;
        }
        Store.Dispose();
        Loggers.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>A small message of its own, with a Message-ID, as raw bytes.</summary>
    public static byte[] Message(string subject) =>
        System.Text.Encoding.UTF8.GetBytes($"From: a@example.org\r\nSubject: {subject}\r\nMessage-ID: <{subject}@fast.test>\r\n\r\nBody of {subject}\r\n");

    public static MessageFlags Flags(params string[] flags) => new(flags);
}

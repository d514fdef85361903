using System.Collections.Concurrent;

namespace Observer.TestSupport;

/// <summary>
/// A private IMAP server from testservers/ (Dovecot, Cyrus or Courier), on free loopback ports.
/// Tests get a fresh account each (cheap: one line in a passwd file) so they never see each other's
/// mail. Dovecot-only features live in <see cref="DovecotServer"/>.
/// </summary>
public class TestServer : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<string, TestServer> Running = new();
    private static readonly ConcurrentDictionary<ServerKind, Lazy<Task>> Installs = new();
    private static int _accounts;
    private readonly string[] _startArguments;
    private readonly Queue<TestAccount> _pool = new();
    private readonly SemaphoreSlim _accountLock = new(1, 1);

    static TestServer()
    {
        // A crashed or aborted test run must not leave servers behind.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var server in Running.Values) server.StopAsync().GetAwaiter().GetResult();
        };
    }

    protected TestServer(ServerKind kind, string name, string[] startArguments)
    {
        Kind = kind;
        Name = name;
        _startArguments = startArguments;
    }

    public ServerKind Kind { get; }
    public string Name { get; }
    public string Host => "127.0.0.1";
    public int Port { get; private set; }
    public int? TlsPort { get; private set; }
    public string Directory { get; private set; } = "";
    public string CertificateSha256 { get; private set; } = "";
    public string GreetingCapabilities { get; private set; } = "";
    public int Pid { get; private set; }

    /// <summary>
    /// How long a user added to the passwd file may take to become able to log in. Dovecot looks at
    /// the file at most once a second.
    /// </summary>
    protected virtual TimeSpan AccountSettleTime => TimeSpan.Zero;

    /// <summary>
    /// Starts a fresh, empty server of any kind. <paramref name="delimiter"/> ('.' or '/') is heeded
    /// by the kinds that let one choose (Dovecot, Cyrus); Courier always uses '.'. A <paramref name="master"/>
    /// may act for any user: on Dovecot as a master user, on Cyrus through proxyservers; Courier has none.
    /// </summary>
    public static async Task<TestServer> StartAsync(ServerKind kind, string name, char? delimiter = null, TestAccount? master = null)
    {
        if (kind == ServerKind.Dovecot) return await DovecotServer.StartAsync(name, delimiter: delimiter ?? '.', master: master);
        if (master is not null && kind != ServerKind.Cyrus) throw new ArgumentException($"the {kind} test server has no master users", nameof(master));
        var unique = $"{name}-{Environment.ProcessId}";
        for (var attempt = 1; ; attempt++)
        {
            var args = new List<string> { unique, "--port", FreePort.Next().ToString(), "--fresh" };
            if (kind == ServerKind.Cyrus && delimiter is { } d) args.AddRange(["--delimiter", d.ToString()]);
            if (master is not null) args.AddRange(["--master", $"{master.User}:{master.Password}"]);
            var server = new TestServer(kind, unique, [.. args]);
            try
            {
                await server.LaunchAsync(args);
                return server;
            }
            catch (InvalidOperationException ex) when (attempt < 3 && ex.Message.Contains("(port in use?)", StringComparison.Ordinal))
            {
                // A port free when picked was taken before the server bound it (another test server started meanwhile,
                // seen in CI with four servers up): pick another.
            }
        }
    }

    /// <summary>
    /// Runs the kind's install.sh once per process, when it has one, so tests work on a fresh
    /// machine. (Dovecot's start.sh installs Dovecot itself.)
    /// </summary>
    public static Task InstallAsync(ServerKind kind) =>
        Installs.GetOrAdd(kind, k => new Lazy<Task>(async () =>
        {
            var script = k.Script("install.sh");
            if (File.Exists(script)) await ScriptRunner.RunAsync(script, [], TimeSpan.FromMinutes(15));
        })).Value;

    protected async Task LaunchAsync(IEnumerable<string> args)
    {
        await InstallAsync(Kind);
        var output = await ScriptRunner.RunAsync(Kind.Script("start.sh"), args, TimeSpan.FromMinutes(5));
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = line.IndexOf('=');
            if (line.StartsWith("CAPABILITY ", StringComparison.Ordinal)) GreetingCapabilities = line[11..];
            if (eq < 0) continue;
            var (key, value) = (line[..eq], line[(eq + 1)..]);
            switch (key)
            {
                case "PORT": Port = int.Parse(value); break;
                case "TLS_PORT": TlsPort = value.Length == 0 ? null : int.Parse(value); break;
                case "DIR": Directory = value; break;
                case "CERT_SHA256": CertificateSha256 = value; break;
                case "PID": Pid = int.Parse(value); break;
            }
        }
        Running[Name] = this;
    }

    /// <summary>Stops the server and starts it again on the same ports with the same mail.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await StartAgainAsync();
    }

    /// <summary>Starts a stopped server again on the same ports, keeping its mail.</summary>
    public async Task StartAgainAsync()
    {
        var args = _startArguments.Where(a => a != "--fresh").ToList();
        var portIndex = args.IndexOf("--port");
        args[portIndex + 1] = Port.ToString();
        var tlsIndex = args.IndexOf("--tls-port");
        if (tlsIndex >= 0) args[tlsIndex + 1] = TlsPort!.Value.ToString();
        await LaunchAsync(args);
    }

    public async Task StopAsync()
    {
        await ScriptRunner.RunAsync(Kind.Script("stop.sh"), [Name], TimeSpan.FromMinutes(1));
        Running.TryRemove(Name, out _);
    }

    /// <summary>
    /// A fresh account. Accounts are made in batches so that a server that looks at its passwd file
    /// at most once a second is waited for once per batch, not once per test.
    /// </summary>
    public async Task<TestAccount> NewAccountAsync()
    {
        await _accountLock.WaitAsync();
        try
        {
            if (_pool.Count == 0)
            {
                var batch = Enumerable.Range(0, 32)
                    .Select(_ => new TestAccount($"u{Interlocked.Increment(ref _accounts)}x{Environment.ProcessId}", "pw-" + Guid.NewGuid().ToString("N")[..12]))
                    .ToList();
                await ScriptRunner.RunAsync(Kind.Script("add-user.sh"), [Name, .. batch.SelectMany(a => new[] { a.User, a.Password })], TimeSpan.FromSeconds(60));
                if (AccountSettleTime > TimeSpan.Zero) await Task.Delay(AccountSettleTime);
                foreach (var account in batch) _pool.Enqueue(account);
            }
            return _pool.Dequeue();
        }
        finally
        {
            _accountLock.Release();
        }
    }

    /// <summary>Gives <paramref name="account"/> a new password, as a token rotation would; the old one stops working.</summary>
    public async Task<TestAccount> ChangePasswordAsync(TestAccount account, string password)
    {
        await ScriptRunner.RunAsync(Kind.Script("add-user.sh"), [Name, account.User, password], TimeSpan.FromSeconds(60));
        if (AccountSettleTime > TimeSpan.Zero) await Task.Delay(AccountSettleTime);
        return account with { Password = password };
    }

    /// <summary>A mail user's client, logged in as <paramref name="account"/> on a new connection.</summary>
    public Task<UserImapClient> ConnectUserAsync(TestAccount account) => UserImapClient.ConnectAsync(Host, Port, account.User, account.Password);

    /// <summary>Stops the server and deletes its folder (mail, config, logs).</summary>
    public async ValueTask DisposeAsync()
    {
        await ScriptRunner.RunAsync(Kind.Script("stop.sh"), [Name, "--wipe"], TimeSpan.FromMinutes(1));
        Running.TryRemove(Name, out _);
    }

    public override string ToString() => $"{Kind} {Name} on port {Port}";
}

using System.Collections.Concurrent;
using Observer.Imap;

namespace Observer.TestSupport;

/// <summary>
/// A private Dovecot instance from testservers/, on free loopback ports. Tests get a fresh
/// account each (cheap: one line in a passwd file) so they never see each other's mail.
/// </summary>
public sealed class DovecotServer : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<string, DovecotServer> Running = new();
    private static int _accounts;
    private readonly string[] _startArguments;
    private readonly Queue<TestAccount> _pool = new();
    private readonly SemaphoreSlim _accountLock = new(1, 1);

    static DovecotServer()
    {
        // A crashed or aborted test run must not leave servers behind.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var server in Running.Values) server.StopAsync().GetAwaiter().GetResult();
        };
    }

    private DovecotServer(string name, string[] startArguments)
    {
        Name = name;
        _startArguments = startArguments;
    }

    public string Name { get; }
    public string Host => "127.0.0.1";
    public int Port { get; private set; }
    public int? TlsPort { get; private set; }
    public string Directory { get; private set; } = "";
    public string CertificateSha256 { get; private set; } = "";
    public string GreetingCapabilities { get; private set; } = "";
    public int Pid { get; private set; }

    public string MasterLog => Path.Combine(Directory, "dovecot.log");

    private static string Script(string name) => Path.Combine(RepoPaths.TestServers, "dovecot", name);

    public static async Task<DovecotServer> StartAsync(string name, bool tls = false, char delimiter = '.', string? extraConfig = null)
    {
        var unique = $"{name}-{Environment.ProcessId}";
        var args = new List<string> { unique, "--port", FreePort.Next().ToString(), "--delimiter", delimiter.ToString(), "--fresh" };
        if (tls) args.AddRange(["--tls-port", FreePort.Next().ToString()]);
        if (extraConfig is not null)
        {
            var file = Path.Combine(Path.GetTempPath(), $"observer-extra-{unique}.conf");
            await File.WriteAllTextAsync(file, extraConfig);
            args.AddRange(["--extra-conf", file]);
        }
        var server = new DovecotServer(unique, [.. args]);
        await server.LaunchAsync(server._startArguments);
        Running[unique] = server;
        return server;
    }

    private async Task LaunchAsync(IEnumerable<string> args)
    {
        var output = await ScriptRunner.RunAsync(Script("start.sh"), args, TimeSpan.FromMinutes(5));
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
        Running[Name] = this;
    }

    public async Task StopAsync()
    {
        await ScriptRunner.RunAsync(Script("stop.sh"), [Name], TimeSpan.FromMinutes(1));
        Running.TryRemove(Name, out _);
    }

    /// <summary>
    /// A fresh account. Accounts are made in batches because Dovecot looks at its passwd file at
    /// most once a second: after writing a batch we wait out that second, once, not per test.
    /// </summary>
    /// <summary>`doveadm kick`: the server sends BYE to every session of the user, as when it shuts down.</summary>
    public async Task KickAsync(TestAccount account)
    {
        var info = new System.Diagnostics.ProcessStartInfo("doveadm") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-c", Path.Combine(Directory, "dovecot.conf"), "kick", account.User }) info.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(info)!;
        await process.WaitForExitAsync();
    }

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
                await ScriptRunner.RunAsync(Script("add-user.sh"), [Name, .. batch.SelectMany(a => new[] { a.User, a.Password })], TimeSpan.FromSeconds(30));
                await Task.Delay(TimeSpan.FromSeconds(1.1));
                foreach (var account in batch) _pool.Enqueue(account);
            }
            return _pool.Dequeue();
        }
        finally
        {
            _accountLock.Release();
        }
    }

    public ImapClientOptions Options(ImapSecurity security = ImapSecurity.None) => new()
    {
        Host = Host,
        Port = security == ImapSecurity.Tls ? TlsPort ?? throw new InvalidOperationException("server has no TLS port") : Port,
        Security = security,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        CommandTimeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>A logged-in client on a new connection.</summary>
    public async Task<ImapClient> ConnectAsync(TestAccount account, ImapClientOptions? options = null)
    {
        var client = await ImapClient.ConnectAsync(options ?? Options());
        await client.LoginAsync(account.User, account.Password);
        return client;
    }

    /// <summary>Stops the server and deletes its folder (mail, config, logs).</summary>
    public async ValueTask DisposeAsync()
    {
        await ScriptRunner.RunAsync(Script("stop.sh"), [Name, "--wipe"], TimeSpan.FromMinutes(1));
        Running.TryRemove(Name, out _);
    }
}

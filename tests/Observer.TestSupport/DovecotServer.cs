namespace Observer.TestSupport;

/// <summary>
/// A private Dovecot: a <see cref="TestServer"/> with what only Dovecot offers here: a choice of
/// hierarchy delimiter, extra settings, TLS, and `doveadm kick`.
/// </summary>
public sealed class DovecotServer : TestServer
{
    private DovecotServer(string name, string[] startArguments) : base(ServerKind.Dovecot, name, startArguments)
    {
    }

    public string MasterLog => Path.Combine(Directory, "dovecot.log");

    // Dovecot looks at its passwd file at most once a second.
    protected override TimeSpan AccountSettleTime => TimeSpan.FromSeconds(1.1);

    /// <param name="master">A master user who may log in as any user, as "user*master" or by SASL PLAIN with an authorization identity.</param>
    public static async Task<DovecotServer> StartAsync(string name, bool tls = false, char delimiter = '.', string? extraConfig = null, TestAccount? master = null)
    {
        var unique = $"{name}-{Environment.ProcessId}";
        var args = new List<string> { unique, "--port", FreePort.Next().ToString(), "--delimiter", delimiter.ToString(), "--fresh" };
        if (master is not null) args.AddRange(["--master", $"{master.User}:{master.Password}"]);
        if (tls) args.AddRange(["--tls-port", FreePort.Next().ToString()]);
        if (extraConfig is not null)
        {
            var file = Path.Combine(Path.GetTempPath(), $"observer-extra-{unique}.conf");
            await File.WriteAllTextAsync(file, extraConfig);
            args.AddRange(["--extra-conf", file]);
        }
        var server = new DovecotServer(unique, [.. args]);
        await server.LaunchAsync(args);
        return server;
    }

    /// <summary>`doveadm kick`: the server sends BYE to every session of the user, as when it shuts down.</summary>
    public async Task KickAsync(TestAccount account)
    {
        var info = new System.Diagnostics.ProcessStartInfo("doveadm") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-c", Path.Combine(Directory, "dovecot.conf"), "kick", account.User }) info.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(info)!;
        await process.WaitForExitAsync();
    }
}

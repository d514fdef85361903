using System.Diagnostics;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>
/// The local pair every tool is measured on: a primary ('.' delimiter) of any kind testservers/ has, and
/// a Dovecot replica ('/'). A corpus is filled once into a template account; each measured run gets an
/// identical clone of it and an empty replica account. A Dovecot primary's clone is a copy of the Maildir
/// (same UIDs); another server's is filled again over IMAP from the same seed (same messages).
/// </summary>
internal sealed class BenchServers : IAsyncDisposable
{
    private BenchServers(ServerPair pair) => Pair = pair;

    public ServerPair Pair { get; }
    public TestServer Primary => Pair.Primary;
    public TestServer Replica => Pair.Replica;

    /// <summary>The server kind and version, for the report.</summary>
    public string Description => Pair.Description;

    /// <summary>How each template on a primary that cannot be copied as files was filled, to fill its clones alike.</summary>
    private readonly Dictionary<string, Func<UserImapClient, Task>> _fillers = new(StringComparer.Ordinal);

    public static async Task<BenchServers> StartAsync(ServerKind primaryKind) =>
        new(primaryKind == ServerKind.Dovecot ? await DovecotPair.StartAsync("bench") : await ServerPair.StartAsync(primaryKind, ServerKind.Dovecot, "bench"));

    /// <summary>Whether a clone is a copy of files (a Dovecot primary) rather than a refill over IMAP.</summary>
    public bool ClonesByCopy => Primary.Kind == ServerKind.Dovecot;

    /// <summary>A new template account on the primary, filled by <paramref name="fill"/>; remembered, to fill its clones the same way.</summary>
    public async Task<TestAccount> TemplateAsync(Func<UserImapClient, Task> fill)
    {
        var template = await Primary.NewAccountAsync();
        await using (var client = await Primary.ConnectUserAsync(template)) await fill(client);
        if (!ClonesByCopy) _fillers[template.User] = fill;
        return template;
    }

    /// <summary>A new primary account holding exactly what <paramref name="template"/> holds.</summary>
    public async Task<PairAccounts> CloneAsync(TestAccount template)
    {
        var primary = await Primary.NewAccountAsync();
        if (ClonesByCopy) await CopyTreeAsync(MailDirectory(Primary, template), MailDirectory(Primary, primary));
        else
        {
            await using var client = await Primary.ConnectUserAsync(primary);
            await _fillers[template.User](client);
        }
        return new PairAccounts(Pair, primary, await Replica.NewAccountAsync());
    }

    /// <summary>
    /// <paramref name="filled"/> itself as the primary, with an empty replica. Live phases use an
    /// account filled over IMAP, not a Maildir copy: Dovecot 2.3 was seen to send IDLE and NOTIFY
    /// events for a copied account only at its 30 s fallback check, for every second change.
    /// </summary>
    public async Task<PairAccounts> AccountsAsync(TestAccount filled) => new(Pair, filled, await Replica.NewAccountAsync());

    /// <summary>Removes both accounts' mail, so a long benchmark does not fill the disk (Dovecot's Maildirs; another primary keeps its own).</summary>
    public static void Drop(PairAccounts accounts)
    {
        foreach (var (server, account) in new[] { (accounts.Pair.Primary, accounts.Primary), (accounts.Pair.Replica, accounts.Replica) })
        {
            if (server.Kind != ServerKind.Dovecot) continue;
            var dir = MailDirectory(server, account);
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    public static string MailDirectory(TestServer server, TestAccount account) => Path.Combine(server.Directory, "mail", account.User);

    public static string ConfigFile(TestServer server) => Path.Combine(server.Directory, "dovecot.conf");

    private static async Task CopyTreeAsync(string from, string to)
    {
        using var cp = Process.Start("cp", ["-a", from, to]) ?? throw new BenchException("cannot run cp");
        await cp.WaitForExitAsync();
        if (cp.ExitCode != 0) throw new BenchException($"cp -a {from} {to} failed with exit code {cp.ExitCode}");
    }

    public async ValueTask DisposeAsync() => await Pair.DisposeAsync();
}

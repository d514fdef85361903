using System.Diagnostics;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>
/// The local pair every tool is measured on: a primary ('.' delimiter) and a replica ('/'), from
/// testservers/. A corpus is filled once into a template account; each measured run gets an
/// identical clone of it (a copy of the Maildir, same UIDs) and an empty replica account.
/// </summary>
internal sealed class BenchServers : IAsyncDisposable
{
    private BenchServers(DovecotPair pair) => Pair = pair;

    public DovecotPair Pair { get; }
    public DovecotServer Primary => Pair.Primary;
    public DovecotServer Replica => Pair.Replica;

    public static async Task<BenchServers> StartAsync() => new(await DovecotPair.StartAsync("bench"));

    /// <summary>A new primary account holding exactly what <paramref name="template"/> holds.</summary>
    public async Task<PairAccounts> CloneAsync(TestAccount template)
    {
        var primary = await Primary.NewAccountAsync();
        await CopyTreeAsync(MailDirectory(Primary, template), MailDirectory(Primary, primary));
        return new PairAccounts(Pair, primary, await Replica.NewAccountAsync());
    }

    /// <summary>
    /// <paramref name="filled"/> itself as the primary, with an empty replica. Live phases use an
    /// account filled over IMAP, not a Maildir copy: Dovecot 2.3 was seen to send IDLE and NOTIFY
    /// events for a copied account only at its 30 s fallback check, for every second change.
    /// </summary>
    public async Task<PairAccounts> AccountsAsync(TestAccount filled) => new(Pair, filled, await Replica.NewAccountAsync());

    /// <summary>Removes both accounts' mail, so a long benchmark does not fill the disk.</summary>
    public static void Drop(PairAccounts accounts)
    {
        foreach (var (server, account) in new[] { (accounts.Pair.Primary, accounts.Primary), (accounts.Pair.Replica, accounts.Replica) })
        {
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

using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;
using Observer.Mail;
using Observer.Replication;
using Observer.TestSupport;

namespace Observer.MailKit.Tests.Contract;

/// <summary>
/// The servers of the session contract: a Dovecot that offers everything (CONDSTORE, QRESYNC, UIDPLUS,
/// MOVE, MULTIAPPEND, NOTIFY), a Dovecot that offers only IMAP4rev1 and IDLE, as older servers do, and
/// Courier and Cyrus with their own ways ("INBOX." namespaces, no MOVE or CONDSTORE on Courier).
/// Every <see cref="IMailSession"/> implementation must behave the same on all of them.
/// </summary>
[SetUpFixture]
public class SessionContractFixture
{
    private static DovecotPair? _dovecots;
    private static ServerPair? _others;

    /// <summary>The servers, by the name the tests show.</summary>
    public static IEnumerable<string> Servers => ["full", "legacy", "courier", "cyrus"];

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        var dovecots = DovecotPair.StartAsync("contract", replicaExtraConfig: DovecotPair.LegacyCapabilities);
        var others = ServerPair.StartAsync(ServerKind.Courier, ServerKind.Cyrus, "contract");
        _dovecots = await dovecots;
        _others = await others;
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_dovecots is not null) await _dovecots.DisposeAsync();
        if (_others is not null) await _others.DisposeAsync();
    }

    /// <summary>The implementations under contract, by name: MailKit's, the one Observer ships.</summary>
    public static IEnumerable<string> Implementations => ["mailkit"];

    /// <summary>
    /// A fresh account on the named server's pair, the role that reaches that server, and a factory of
    /// the named implementation for it.
    /// </summary>
    public static async Task<(IMailSessionFactory Sessions, PairAccounts Accounts, ServerRole Role)> NewAsync(string implementation, string server)
    {
        ServerPair pair = server is "full" or "legacy" ? _dovecots! : _others!;
        var role = server is "full" or "courier" ? ServerRole.Primary : ServerRole.Replica;
        var accounts = await pair.NewAccountsAsync();
        var Pair = pair;
        var primary = Endpoint(Pair.Primary, accounts.Primary);
        var replica = Endpoint(Pair.Replica, accounts.Replica);
        IMailSessionFactory sessions = implementation switch
        {
            "mailkit" => new MailKitMailSessionFactory(primary, replica, NullLoggerFactory.Instance),
            _ => throw new ArgumentException($"no implementation {implementation}", nameof(implementation)),
        };
        return (sessions, accounts, role);
    }

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
}

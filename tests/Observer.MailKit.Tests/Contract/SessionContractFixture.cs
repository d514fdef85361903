using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;
using Observer.Imap;
using Observer.Replication;
using Observer.TestSupport;

namespace Observer.MailKit.Tests.Contract;

/// <summary>
/// One Dovecot pair for the session contract: the "primary" offers everything (CONDSTORE, QRESYNC,
/// UIDPLUS, MOVE, MULTIAPPEND, NOTIFY), the "replica" only IMAP4rev1 and IDLE, as older servers do.
/// Every <see cref="IMailSession"/> implementation must behave the same on both.
/// </summary>
[SetUpFixture]
public class SessionContractFixture
{
    private static DovecotPair? _pair;

    public static DovecotPair Pair => _pair ?? throw new InvalidOperationException("pair not started");

    [OneTimeSetUp]
    public async Task StartAsync() => _pair = await DovecotPair.StartAsync("contract", replicaExtraConfig: DovecotPair.LegacyCapabilities);

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_pair is not null) await _pair.DisposeAsync();
    }

    /// <summary>The implementations under contract, by name.</summary>
    public static IEnumerable<string> Implementations => ["builtin", "mailkit"];

    /// <summary>A fresh account on both servers, and a factory of the named implementation for it.</summary>
    public static async Task<(IMailSessionFactory Sessions, PairAccounts Accounts)> NewAsync(string implementation)
    {
        var accounts = await Pair.NewAccountsAsync();
        var primary = Endpoint(Pair.Primary, accounts.Primary);
        var replica = Endpoint(Pair.Replica, accounts.Replica);
        IMailSessionFactory sessions = implementation switch
        {
            "builtin" => new ImapMailSessionFactory(primary, replica, NullLoggerFactory.Instance),
            "mailkit" => new MailKitMailSessionFactory(primary, replica, NullLoggerFactory.Instance),
            _ => throw new ArgumentException($"no implementation {implementation}", nameof(implementation)),
        };
        return (sessions, accounts);
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

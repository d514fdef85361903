using NUnit.Framework;
using Observer.Replication;
using Observer.TestSupport;

namespace Observer.MailKit.Tests.Contract;

/// <summary>Runs a contract fixture once per implementation and per server kind (full and legacy).</summary>
public abstract class ContractTestBase(string implementation, ServerRole role)
{
    public static IEnumerable<TestFixtureData> Cases() =>
        SessionContractFixture.Implementations.SelectMany(i => new[]
        {
            new TestFixtureData(i, ServerRole.Primary).SetArgDisplayNames(i, "full"),
            new TestFixtureData(i, ServerRole.Replica).SetArgDisplayNames(i, "legacy"),
        });

    protected string Implementation { get; } = implementation;

    protected ServerRole Role { get; } = role;

    protected PairAccounts Accounts { get; private set; } = null!;

    private IMailSessionFactory _sessions = null!;
    private readonly List<IMailSession> _open = [];

    [SetUp]
    public async Task NewAccountAsync() => (_sessions, Accounts) = await SessionContractFixture.NewAsync(Implementation);

    [TearDown]
    public async Task CloseAsync()
    {
        foreach (var session in _open) await session.DisposeAsync();
        _open.Clear();
    }

    protected async Task<IMailSession> SessionAsync()
    {
        var session = await _sessions.ConnectAsync(Role, "contract", CancellationToken.None);
        _open.Add(session);
        return session;
    }

    /// <summary>Another client of the same account, as a user's mail program would be.</summary>
    protected Task<Observer.Imap.ImapClient> UserAsync() => Role == ServerRole.Primary ? Accounts.PrimaryClientAsync() : Accounts.ReplicaClientAsync();

    protected static CancellationToken None => CancellationToken.None;
}

using NUnit.Framework;
using Observer.Replication;
using Observer.TestSupport;

namespace Observer.MailKit.Tests.Contract;

/// <summary>Runs a contract fixture once per implementation and per server.</summary>
public abstract class ContractTestBase(string implementation, string server)
{
    public static IEnumerable<TestFixtureData> Cases() =>
        SessionContractFixture.Implementations.SelectMany(i => SessionContractFixture.Servers.Select(s => new TestFixtureData(i, s).SetArgDisplayNames(i, s)));

    protected string Implementation { get; } = implementation;

    protected string Server { get; } = server;

    protected ServerRole Role { get; private set; }

    /// <summary>Which implementation on which server, for messages.</summary>
    protected string Where => $"{Implementation} on {Server}";

    protected PairAccounts Accounts { get; private set; } = null!;

    private IMailSessionFactory _sessions = null!;
    private readonly List<IMailSession> _open = [];

    [SetUp]
    public async Task NewAccountAsync() => (_sessions, Accounts, Role) = await SessionContractFixture.NewAsync(Implementation, Server);

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
    protected Task<UserImapClient> UserAsync() => Role == ServerRole.Primary ? Accounts.PrimaryClientAsync() : Accounts.ReplicaClientAsync();

    protected static CancellationToken None => CancellationToken.None;

    /// <summary>A folder path ("Parent/Child") as the session's server names it: its personal prefix and delimiter.</summary>
    protected static string Name(IMailSession session, string path) =>
        session.PersonalPrefix + path.Replace('/', session.Delimiter ?? '/');
}

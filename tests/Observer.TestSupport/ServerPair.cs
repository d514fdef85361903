namespace Observer.TestSupport;

/// <summary>
/// A primary and a replica server, of any kinds. Where the kind lets one choose (Dovecot, Cyrus),
/// the primary uses '.' and the replica '/' as hierarchy delimiter; Courier uses '.' under "INBOX.".
/// So every pair also exercises name translation.
/// </summary>
public class ServerPair : IAsyncDisposable
{
    protected ServerPair(TestServer primary, TestServer replica)
    {
        Primary = primary;
        Replica = replica;
    }

    public TestServer Primary { get; }
    public TestServer Replica { get; }

    public string Description => $"{Primary.Kind}\u2192{Replica.Kind}";

    public static async Task<ServerPair> StartAsync(ServerKind primaryKind, ServerKind replicaKind, string name)
    {
        var primary = Start(primaryKind, name + "-p", '.');
        var replica = Start(replicaKind, name + "-r", '/');
        return new ServerPair(await primary, await replica);
    }

    private static Task<TestServer> Start(ServerKind kind, string name, char delimiter) => TestServer.StartAsync(kind, name, delimiter);

    /// <summary>An account on each server, for one test.</summary>
    public async Task<PairAccounts> NewAccountsAsync() =>
        new(this, await Primary.NewAccountAsync(), await Replica.NewAccountAsync());

    public async ValueTask DisposeAsync()
    {
        await Primary.DisposeAsync();
        await Replica.DisposeAsync();
    }
}

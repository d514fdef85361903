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

    /// <param name="primaryMaster">A user who may log in to the primary for any user (see <see cref="TestServer.StartAsync"/>).</param>
    public static async Task<ServerPair> StartAsync(ServerKind primaryKind, ServerKind replicaKind, string name, TestAccount? primaryMaster = null)
    {
        var primary = TestServer.StartAsync(primaryKind, name + "-p", '.', primaryMaster);
        var replica = TestServer.StartAsync(replicaKind, name + "-r", '/');
        return new ServerPair(await primary, await replica);
    }

    /// <summary>Two servers started elsewhere, seen as a pair (for a replica of several, or a link of a chain); disposing it stops both.</summary>
    public static ServerPair Of(TestServer primary, TestServer replica) => new(primary, replica);

    /// <summary>An account on each server, for one test.</summary>
    public async Task<PairAccounts> NewAccountsAsync() =>
        new(this, await Primary.NewAccountAsync(), await Replica.NewAccountAsync());

    public async ValueTask DisposeAsync()
    {
        await Primary.DisposeAsync();
        await Replica.DisposeAsync();
    }
}

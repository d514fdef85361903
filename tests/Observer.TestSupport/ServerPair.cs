namespace Observer.TestSupport;

/// <summary>
/// A primary and a replica server, of any kinds. A Dovecot primary uses '.' and a Dovecot replica
/// '/' as hierarchy delimiter, and Cyrus and Courier use '.' under "INBOX.", so every pair also
/// exercises name translation.
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

    private static async Task<TestServer> Start(ServerKind kind, string name, char dovecotDelimiter) =>
        kind == ServerKind.Dovecot ? await DovecotServer.StartAsync(name, delimiter: dovecotDelimiter) : await TestServer.StartAsync(kind, name);

    /// <summary>An account on each server, for one test.</summary>
    public async Task<PairAccounts> NewAccountsAsync() =>
        new(this, await Primary.NewAccountAsync(), await Replica.NewAccountAsync());

    public async ValueTask DisposeAsync()
    {
        await Primary.DisposeAsync();
        await Replica.DisposeAsync();
    }
}

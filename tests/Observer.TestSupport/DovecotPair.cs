using Observer.Imap;

namespace Observer.TestSupport;

/// <summary>
/// A primary and a replica Dovecot, deliberately with different hierarchy delimiters ('.' and '/'),
/// so every end-to-end test also exercises delimiter translation.
/// </summary>
public sealed class DovecotPair : IAsyncDisposable
{
    private DovecotPair(DovecotServer primary, DovecotServer replica)
    {
        Primary = primary;
        Replica = replica;
    }

    public DovecotServer Primary { get; }
    public DovecotServer Replica { get; }

    /// <summary>
    /// Dovecot cut down to plain IMAP4rev1 with IDLE: no CONDSTORE, QRESYNC, NOTIFY, UIDPLUS, MOVE,
    /// MULTIAPPEND, LIST-EXTENDED, LIST-STATUS or ESEARCH, like an old or minimal server.
    /// </summary>
    public const string LegacyCapabilities = "protocol imap {\n  imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ NAMESPACE UNSELECT CHILDREN\n}\n";

    public static async Task<DovecotPair> StartAsync(string name, string? replicaExtraConfig = null, string? primaryExtraConfig = null,
        char primaryDelimiter = '.', char replicaDelimiter = '/', bool replicaTls = false)
    {
        var primary = DovecotServer.StartAsync(name + "-p", delimiter: primaryDelimiter, extraConfig: primaryExtraConfig);
        var replica = DovecotServer.StartAsync(name + "-r", tls: replicaTls, delimiter: replicaDelimiter, extraConfig: replicaExtraConfig);
        return new DovecotPair(await primary, await replica);
    }

    /// <summary>An account on each server, for one test.</summary>
    public async Task<PairAccounts> NewAccountsAsync() =>
        new(this, await Primary.NewAccountAsync(), await Replica.NewAccountAsync());

    public async ValueTask DisposeAsync()
    {
        await Primary.DisposeAsync();
        await Replica.DisposeAsync();
    }
}

public sealed record PairAccounts(DovecotPair Pair, TestAccount Primary, TestAccount Replica)
{
    public Task<ImapClient> PrimaryClientAsync() => Pair.Primary.ConnectAsync(Primary);

    public Task<ImapClient> ReplicaClientAsync() => Pair.Replica.ConnectAsync(Replica);

    public async Task<AccountSnapshot> PrimarySnapshotAsync()
    {
        await using var client = await PrimaryClientAsync();
        return await AccountSnapshot.ReadAsync(client);
    }

    public async Task<AccountSnapshot> ReplicaSnapshotAsync()
    {
        await using var client = await ReplicaClientAsync();
        return await AccountSnapshot.ReadAsync(client);
    }

    /// <summary>The differences between the two accounts now; empty when the replica is an exact copy.</summary>
    public async Task<List<string>> DifferencesAsync(bool compareSubscriptions = true) =>
        (await PrimarySnapshotAsync()).Differences(await ReplicaSnapshotAsync(), compareSubscriptions);

    /// <summary>Settings for observer, as the configuration keys it reads.</summary>
    public Dictionary<string, string> Settings(string statePath) => new()
    {
        ["Primary:Host"] = Pair.Primary.Host,
        ["Primary:Port"] = Pair.Primary.Port.ToString(),
        ["Primary:Security"] = "None",
        ["Primary:Username"] = Primary.User,
        ["Primary:Password"] = Primary.Password,
        ["Replica:Host"] = Pair.Replica.Host,
        ["Replica:Port"] = Pair.Replica.Port.ToString(),
        ["Replica:Security"] = "None",
        ["Replica:Username"] = Replica.User,
        ["Replica:Password"] = Replica.Password,
        ["State:Path"] = statePath,
    };
}

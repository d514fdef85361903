namespace Observer.TestSupport;

/// <summary>An account on each server of a pair, with what tests do with both.</summary>
public sealed record PairAccounts(ServerPair Pair, TestAccount Primary, TestAccount Replica)
{
    public Task<UserImapClient> PrimaryClientAsync() => Pair.Primary.ConnectUserAsync(Primary);

    public Task<UserImapClient> ReplicaClientAsync() => Pair.Replica.ConnectUserAsync(Replica);

    /// <summary>The primary, with the forms in which the replica's kind of server may store each message.</summary>
    public async Task<AccountSnapshot> PrimarySnapshotAsync()
    {
        await using var client = await PrimaryClientAsync();
        return await AccountSnapshot.ReadAsync(client, Pair.Replica.Kind);
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

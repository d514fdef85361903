using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>
/// The same seeded mix of changes for every tool: appends, flag and keyword changes, expunges,
/// moves, and folders created, renamed and deleted. Clones are identical, so the same seed makes
/// the same changes.
/// </summary>
internal static class Mutations
{
    public static async Task<int> ApplyAsync(PairAccounts accounts, int count, int seed)
    {
        await using var client = await accounts.PrimaryClientAsync();
        return await ApplyAsync(client, count, seed);
    }

    public static async Task<int> ApplyAsync(UserImapClient client, int count, int seed)
    {
        var folders = (await client.ListAsync()).Where(m => m.IsSelectable).Select(m => m.Name).Order(StringComparer.Ordinal).ToList();
        var mutator = new MailboxMutator(client, seed, folders);
        for (var attempts = 0; mutator.Total < count && attempts < count * 10; attempts++)
        {
            // A pick that the server refused (a name taken) is skipped; the next one will do.
            await mutator.MutateOrCarryOnAsync();
        }
        return mutator.Total;
    }
}

/// <summary>`mutate`: the incremental phase's changes, by hand, for profiling one tool against a pair of one's own.</summary>
internal static class MutateCommand
{
    public static async Task<int> RunAsync(BenchArguments args)
    {
        await using var client = await args.Endpoint("primary").ConnectAsync();
        var made = await Mutations.ApplyAsync(client, args.Number("count", 200), args.Number("seed", 42));
        Console.WriteLine($"mutate: {made} changes made on the primary");
        return 0;
    }
}

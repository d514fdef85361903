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

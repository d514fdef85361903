using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>`corpus`: fills an account with a generated, reproducible mailbox.</summary>
internal static class CorpusCommand
{
    public static async Task<int> RunAsync(BenchArguments args)
    {
        var profile = CorpusProfile.Parse(args.Text("profile", "demo"));
        // A smaller large folder, to profile a big INBOX without waiting for the whole one.
        if (args.Number("messages", 0) is var messages and > 0) profile = profile with { Messages = messages };
        var generator = new CorpusGenerator(profile, args.Number("seed", 42));
        var account = args.Endpoint("primary");
        await using var client = await account.ConnectAsync();
        var (count, bytes) = await FillAsync(client, generator);
        Console.WriteLine($"corpus '{profile.Name}': {count} messages ({bytes / 1048576.0:0.0} MB) in {generator.Folders.Count} folders on {account.Host}:{account.Port}");
        return 0;
    }

    /// <returns>How many messages, and their total size in bytes.</returns>
    public static async Task<(int Messages, long Bytes)> FillAsync(UserImapClient client, CorpusGenerator generator)
    {
        var delimiter = await client.GetDelimiterAsync() ?? '.';
        var existing = (await client.ListAsync()).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var folder in generator.Folders.Select(f => f.Replace('.', delimiter)).Where(f => !existing.Contains(f) && f != "INBOX"))
            await client.CreateAsync(folder);
        var count = 0;
        long bytes = 0;
        foreach (var group in generator.Messages().Chunk(100))
        {
            bytes += group.Sum(m => m.Message.Content.Length);
            foreach (var byFolder in group.GroupBy(m => m.Folder.Replace('.', delimiter)))
                await client.MultiAppendAsync(byFolder.Key, byFolder.Select(m => m.Message).ToList());
            count += group.Length;
        }
        return (count, bytes);
    }
}

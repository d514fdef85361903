using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>`traffic`: acts like a mail user on the primary (new mail, read, flag, move, delete), printing each step.</summary>
internal static class TrafficCommand
{
    public static async Task<int> RunAsync(BenchArguments args)
    {
        var interval = TimeSpan.FromSeconds(args.Number("interval", 3));
        var limit = args.Number("count", int.MaxValue);
        var random = new Random(args.Number("seed", 7));
        var generator = new CorpusGenerator(CorpusProfile.Parse("demo") with { Messages = 100_000 }, args.Number("seed", 7) + 1000);
        using var messages = generator.Messages().GetEnumerator();
        await using var client = await args.Endpoint("primary").ConnectAsync();
        var delimiter = await client.GetDelimiterAsync() ?? '.';
        var archive = "Archive" + delimiter + "2026";
        for (var step = 1; step <= limit; step++)
        {
            await Task.Delay(interval);
            messages.MoveNext();
            var (_, message) = messages.Current;
            var action = random.Next(10);
            var selected = await client.SelectAsync("INBOX");
            if (action < 5 || selected.Exists < 3)
            {
                await client.AppendAsync("INBOX", message with { Flags = MessageFlags.None, InternalDate = DateTimeOffset.Now });
                Console.WriteLine($"primary: new mail in INBOX ({message.Content.Length} bytes)");
                continue;
            }
            var uids = (await client.UidSearchAsync(SearchQuery.All)).Expand().ToList();
            var uid = uids[random.Next(uids.Count)];
            switch (action)
            {
                case 5 or 6:
                    await client.UidStoreAsync(UidSet.Single(uid), StoreMode.Add, new MessageFlags(["\\Seen", "$Demo"]));
                    Console.WriteLine($"primary: marked INBOX uid {uid} read and tagged $Demo");
                    break;
                case 7 or 8:
                    await client.UidMoveAsync(UidSet.Single(uid), archive);
                    Console.WriteLine($"primary: moved INBOX uid {uid} to {archive}");
                    break;
                default:
                    await client.UidStoreAsync(UidSet.Single(uid), StoreMode.Add, new MessageFlags(["\\Deleted"]));
                    await client.UidExpungeAsync(UidSet.Single(uid));
                    Console.WriteLine($"primary: deleted INBOX uid {uid}");
                    break;
            }
        }
        return 0;
    }
}

using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>`lag`: with `observer run` already replicating the pair, times appends and flag changes end to end.</summary>
internal static class LagCommand
{
    public static async Task<int> RunAsync(BenchArguments args)
    {
        var count = args.Number("count", 100);
        var folder = args.Text("folder", "INBOX");
        await using var primary = await args.Endpoint("primary").ConnectAsync();
        await using var replica = await args.Endpoint("replica").ConnectAsync();
        var probe = await LagProbe.OpenAsync(primary, replica, folder);
        var random = new Random(args.Number("seed", 11));

        var appends = new List<double>();
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var id = $"<lag-{Guid.NewGuid():N}@bench.example.com>";
            var message = new AppendMessage(ImapLiteral.FromString($"From: lag@example.com\r\nSubject: lag probe {i}\r\nMessage-ID: {id}\r\n\r\nprobe\r\n"));
            appends.Add(await probe.AppendAsync(message, id, TimeSpan.FromSeconds(120)));
            ids.Add(id);
            // Spread the samples over Dovecot's notification cycle instead of locking onto it.
            await Task.Delay(random.Next(50, 400));
        }

        var flags = new List<double>();
        if (!args.Flag("appends-only"))
        {
            for (var i = 0; i < count; i++)
            {
                var id = ids[i % ids.Count];
                var uid = (await primary.UidSearchAsync(SearchQuery.Header("Message-ID", id))).Expand().Single();
                flags.Add(await probe.FlagAsync(uid, id, $"$Lag{i}", TimeSpan.FromSeconds(120)));
                await Task.Delay(random.Next(50, 400));
            }
        }
        Console.WriteLine(Stats.Table(("append", appends), ("flag change", flags)));
        return 0;
    }
}

using System.Threading.Channels;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>
/// `rawcopy`: the ceiling for an initial copy. It does only what no copy can skip: stream every
/// message from the primary and MULTIAPPEND it (with flags and date) to the replica, with the same
/// overlap of reading and writing and the same folders in parallel as Observer, but no state, no
/// verification, no journal. What it takes is what the servers take.
/// </summary>
internal static class RawCopyCommand
{
    private const int BatchSize = 50;

    public static async Task<int> RunAsync(BenchArguments args)
    {
        var parallel = args.Number("parallel", 3);
        var primaryAccount = args.Endpoint("primary");
        var replicaAccount = args.Endpoint("replica");

        List<string> folders;
        char primaryDelimiter, replicaDelimiter;
        await using (var primary = await primaryAccount.ConnectAsync())
        await using (var replica = await replicaAccount.ConnectAsync())
        {
            primaryDelimiter = await primary.GetDelimiterAsync() ?? '.';
            replicaDelimiter = await replica.GetDelimiterAsync() ?? '.';
            folders = (await primary.ListAsync()).Where(m => m.IsSelectable).Select(m => m.Name).ToList();
            var existing = (await replica.ListAsync()).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var f in folders.OrderBy(f => f.Length))
            {
                var target = f.Replace(primaryDelimiter, replicaDelimiter);
                if (!existing.Contains(target)) await replica.CreateAsync(target);
            }
        }

        var queue = new Queue<string>(folders);
        var copied = 0;
        await Task.WhenAll(Enumerable.Range(0, Math.Max(1, parallel)).Select(async _ =>
        {
            await using var primary = await primaryAccount.ConnectAsync();
            await using var replica = await replicaAccount.ConnectAsync();
            while (true)
            {
                string folder;
                lock (queue)
                {
                    if (queue.Count == 0) return;
                    folder = queue.Dequeue();
                }
                Interlocked.Add(ref copied, await CopyFolderAsync(primary, replica, folder, folder.Replace(primaryDelimiter, replicaDelimiter)));
            }
        }));
        Console.WriteLine($"rawcopy: {copied} messages in {folders.Count} folders");
        return 0;
    }

    private static async Task<int> CopyFolderAsync(UserImapClient primary, UserImapClient replica, string folder, string target)
    {
        var selected = await primary.ExamineAsync(folder);
        if (selected.Exists == 0) return 0;
        var batches = Channel.CreateBounded<List<MessageData>>(2);
        var count = 0;
        var writer = Task.Run(async () =>
        {
            try
            {
                await foreach (var batch in batches.Reader.ReadAllAsync())
                {
                    try
                    {
                        await replica.MultiAppendAsync(target, batch.Select(m => new AppendMessage(m.Body!, m.Flags?.WithoutRecent(), m.InternalDate)).ToList());
                        count += batch.Count;
                    }
                    finally
                    {
                        foreach (var m in batch) m.Dispose();
                    }
                }
            }
            catch (Exception ex)
            {
                // Stops the reading side too, instead of leaving it blocked on a full queue.
                batches.Writer.TryComplete(ex);
                throw;
            }
        });
        var current = new List<MessageData>();
        await foreach (var message in primary.UidFetchStreamAsync(UidSet.All, new FetchRequest(FetchItems.Flags | FetchItems.InternalDate | FetchItems.Body)))
        {
            current.Add(message);
            if (current.Count == BatchSize)
            {
                await batches.Writer.WriteAsync(current);
                current = [];
            }
        }
        if (current.Count > 0) await batches.Writer.WriteAsync(current);
        batches.Writer.Complete();
        await writer;
        return count;
    }
}

/// <summary>The raw ceiling as a tool: this benchmark program itself, run as a process like the others.</summary>
internal sealed class RawCopyTool : SyncTool
{
    public override string Id => "rawcopy";

    public override string Name => "raw FETCH→APPEND";

    public override bool SupportsIncremental => false;

    protected override string Program => Environment.ProcessPath ?? "observer-bench";

    public override ProcessSpec OneShot(Observer.TestSupport.PairAccounts accounts, string work) => new(Program,
    [
        "rawcopy",
        "--primary-port", accounts.Pair.Primary.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--primary-user", accounts.Primary.User,
        "--primary-password-file", WritePrivate(work, "primary.password", accounts.Primary.Password),
        "--replica-port", accounts.Pair.Replica.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--replica-user", accounts.Replica.User,
        "--replica-password-file", WritePrivate(work, "replica.password", accounts.Replica.Password),
    ], work);
}

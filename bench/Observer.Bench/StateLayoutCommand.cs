using System.Diagnostics;
using System.Security.Cryptography;
using Observer.State;

namespace Observer.Bench;

/// <summary>
/// `state`: one state database for every account against one database per account (issue 11 asks to decide by
/// measuring). Both layouts get the same work: the write path of a copy (the journal begun for a batch of ten
/// messages, then the messages and the journal's completion in one transaction), from several accounts at once;
/// then recovery after a stop that left writes open in a tenth of the accounts: opening and checking the state,
/// and reading every account's open journal entries, as a service does when it starts.
/// </summary>
internal static class StateLayoutCommand
{
    private const int BatchSize = 10;

    public static Task<int> RunAsync(BenchArguments args)
    {
        var accounts = args.Number("accounts", 1000);
        var folders = args.Number("folders", 20);
        var batches = args.Number("batches", 5000);
        var writers = args.Number("writers", 4);
        if (accounts is < 1 or > 5000) throw new BenchException("--accounts must be 1 to 5000");
        if (folders is < 1 or > 100) throw new BenchException("--folders must be 1 to 100");
        if (batches is < 1 or > 100_000) throw new BenchException("--batches must be 1 to 100000");
        if (writers is < 1 or > 16) throw new BenchException("--writers must be 1 to 16");

        var dir = Directory.CreateTempSubdirectory("observer-state-bench-").FullName;
        try
        {
            Console.WriteLine($"{accounts} accounts × {folders} folders; {batches} batches of {BatchSize} messages from {writers} writers at once; open writes left in {accounts / 10} accounts");
            Console.WriteLine();
            Console.WriteLine("| layout | setup s | writes: messages/s | recovery s | open writes found | files | size MB |");
            Console.WriteLine("|---|---|---|---|---|---|---|");
            foreach (var shared in new[] { true, false })
            {
                var row = Measure(Path.Combine(dir, shared ? "one" : "each"), shared, accounts, folders, batches, writers);
                Console.WriteLine($"| {(shared ? "one database" : "one per account")} | {row.Setup:0.00} | {row.MessagesPerSecond:0} | {row.Recovery:0.00} | {row.Found} of {row.Left} | {row.Files} | {row.Bytes / 1048576.0:0.0} |");
            }
            return Task.FromResult(0);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private sealed record Row(double Setup, double MessagesPerSecond, double Recovery, int Found, int Left, int Files, long Bytes);

    /// <summary>One account's place: the store it writes to, its replica row and its folders.</summary>
    private sealed record Account(StateStore Store, long ReplicaId, IReadOnlyList<FolderRecord> Folders);

    private static Row Measure(string dir, bool shared, int accountCount, int folders, int batches, int writers)
    {
        Directory.CreateDirectory(dir);
        string PathOf(int i) => Path.Combine(dir, shared ? "state.db" : $"user{i:0000}.db");

        var clock = Stopwatch.StartNew();
        var stores = new Dictionary<string, StateStore>();
        StateStore StoreOf(int i) => stores.TryGetValue(PathOf(i), out var s) ? s : stores[PathOf(i)] = StateStore.Open(PathOf(i));
        var accounts = new List<Account>();
        for (var i = 0; i < accountCount; i++)
        {
            var store = StoreOf(i);
            var (replica, _) = store.Replicas.Ensure("default", "primary:143", "replica:143", account: $"user{i:0000}");
            var made = Enumerable.Range(0, folders).Select(f => store.Folders.Add(replica.Id, $"Folder{f}", $"Folder{f}")).ToList();
            accounts.Add(new Account(store, replica.Id, made));
        }
        var setup = clock.Elapsed.TotalSeconds;

        // Writers pick accounts at random, as live accounts' copies come in; a store serializes its own writers.
        var nextUid = new int[accountCount];
        var done = 0;
        clock.Restart();
        Parallel.For(0, writers, new ParallelOptions { MaxDegreeOfParallelism = writers }, w =>
        {
            var random = new Random(w);
            while (Interlocked.Increment(ref done) <= batches)
            {
                var index = random.Next(accountCount);
                var account = accounts[index];
                var folder = account.Folders[random.Next(folders)];
                var first = (uint)Interlocked.Add(ref nextUid[index], BatchSize) - BatchSize + 1;
                Copy(account, folder, first, complete: true);
            }
        });
        var writeSeconds = clock.Elapsed.TotalSeconds;

        // A stop in the middle of copies: a tenth of the accounts have a batch begun and never completed.
        var left = 0;
        foreach (var account in accounts.Where((_, i) => i % 10 == 0))
        {
            Copy(account, account.Folders[0], 1_000_000, complete: false);
            left += BatchSize;
        }
        foreach (var store in stores.Values) store.Dispose();

        clock.Restart();
        var reopened = new Dictionary<string, StateStore>();
        var found = 0;
        for (var i = 0; i < accountCount; i++)
        {
            if (!reopened.TryGetValue(PathOf(i), out var store))
            {
                store = reopened[PathOf(i)] = StateStore.Open(PathOf(i));
                store.WaitUntilOpen();
            }
            var replica = store.Replicas.Find("default", $"user{i:0000}") ?? throw new BenchException($"user{i:0000} lost its replica row");
            found += store.Journal.Open(replica.Id).Count;
        }
        var recovery = clock.Elapsed.TotalSeconds;
        foreach (var store in reopened.Values) store.Dispose();

        var files = Directory.GetFiles(dir);
        return new Row(setup, batches * BatchSize / writeSeconds, recovery, found, left, files.Count(f => f.EndsWith(".db", StringComparison.Ordinal)),
            files.Sum(f => new FileInfo(f).Length));
    }

    /// <summary>A copy's state writes: its journal entries first, then the messages and their completion together.</summary>
    private static void Copy(Account account, FolderRecord folder, uint firstUid, bool complete)
    {
        var messages = Enumerable.Range(0, BatchSize).Select(k => new MessageRecord
        {
            FolderId = folder.Id,
            PrimaryUid = firstUid + (uint)k,
            ReplicaUid = firstUid + (uint)k,
            Md5 = MD5.HashData(BitConverter.GetBytes(folder.Id * 1_000_003 + firstUid + k)),
            Size = 4096 + k,
            InternalDate = DateTimeOffset.UnixEpoch.AddDays(20_000),
            Flags = "\\Seen",
            MessageId = $"<{folder.Id}.{firstUid + k}@bench>",
        }).ToList();
        var ids = account.Store.Journal.Begin(messages.Select(m => new JournalEntry
        {
            ReplicaId = account.ReplicaId, Folder = folder.PrimaryName, Operation = "append", PrimaryUid = m.PrimaryUid, Md5 = m.Md5, Size = m.Size, MessageId = m.MessageId,
        }));
        if (!complete) return;
        account.Store.InTransaction(() =>
        {
            account.Store.Messages.Put(messages);
            account.Store.Journal.Complete(ids);
        });
    }
}

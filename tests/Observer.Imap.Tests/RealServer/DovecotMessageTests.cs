using System.Security.Cryptography;
using System.Text;
using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Imap.Tests;

public class DovecotMessageTests
{
    private static DovecotServer Server => DovecotFixture.Server;

    private static async Task<ImapClient> Login(params string[] enable)
    {
        var client = await Server.ConnectAsync(await Server.NewAccountAsync());
        if (enable.Length > 0) await client.EnableAsync(enable);
        return client;
    }

    private static readonly FetchRequest Everything = new(FetchItems.Flags | FetchItems.InternalDate | FetchItems.Size | FetchItems.ModSeq | FetchItems.Body)
    {
        HeaderFields = ["Message-ID"],
    };

    [Test]
    public async Task Append_WithFlagsKeywordsAndDate_FetchesBackExactly()
    {
        await using var client = await Login("CONDSTORE");
        var text = Messages.Text("exact", "<exact-1@example.com>");
        var date = new DateTimeOffset(2019, 3, 4, 5, 6, 7, TimeSpan.FromHours(-5));
        var appended = await client.AppendAsync("INBOX", new AppendMessage(ImapLiteral.FromString(text), new MessageFlags(["\\Seen", "\\Flagged", "$Label1", "project-x"]), date));
        Assert.That(appended.Uids!.Expand(), Is.EqualTo(new uint[] { 1 }));
        var selected = await client.SelectAsync("INBOX");
        Assert.That(appended.UidValidity, Is.EqualTo(selected.UidValidity));

        using var result = await client.UidFetchAsync(UidSet.Single(1), Everything);
        var m = result.Messages.Single();
        Assert.That(m.Uid, Is.EqualTo(1));
        Assert.That(m.Flags!.WithoutRecent(), Is.EqualTo(new MessageFlags(["\\Seen", "\\Flagged", "$Label1", "project-x"])));
        Assert.That(m.InternalDate, Is.EqualTo(date));
        Assert.That(m.Size, Is.EqualTo(Encoding.UTF8.GetByteCount(text)));
        Assert.That(m.ModSeq, Is.GreaterThan(0));
        Assert.That(Encoding.UTF8.GetString(m.Body!.ToArray()), Is.EqualTo(text));
        Assert.That(Encoding.UTF8.GetString(m.HeaderFields!), Does.Contain("<exact-1@example.com>"));
    }

    [Test]
    public async Task Append_ToMissingMailbox_SaysTryCreate()
    {
        await using var client = await Login();
        var ex = Assert.ThrowsAsync<ImapCommandException>(() => client.AppendAsync("Nowhere", new AppendMessage(Messages.Literal("x"))));
        Assert.That(ex!.Code!.Kind, Is.EqualTo(ResponseCodeKind.TryCreate));
    }

    [Test]
    public async Task MultiAppend_IsOneCommandWithAllUids()
    {
        await using var client = await Login();
        var result = await client.MultiAppendAsync("INBOX", Enumerable.Range(1, 5).Select(i => new AppendMessage(Messages.Literal("m" + i))).ToList());
        Assert.That(result.Uids!.Expand(), Is.EqualTo(new uint[] { 1, 2, 3, 4, 5 }));
    }

    [Test]
    public async Task Append_PipelinedConcurrently_AllSucceedWithDistinctUids()
    {
        await using var client = await Login();
        var tasks = Enumerable.Range(1, 50).Select(i => client.AppendAsync("INBOX", new AppendMessage(Messages.Literal("p" + i)))).ToList();
        var results = await Task.WhenAll(tasks);
        Assert.That(results.SelectMany(r => r.Uids!.Expand()).Distinct().Count(), Is.EqualTo(50));
    }

    [Test]
    public async Task UidSearch_ByHeaderAndAll()
    {
        await using var client = await Login();
        await client.AppendAsync("INBOX", new AppendMessage(Messages.Literal("a", "<find-me@example.com>")));
        await client.AppendAsync("INBOX", new AppendMessage(Messages.Literal("b", "<other@example.com>")));
        await client.SelectAsync("INBOX");
        Assert.That((await client.UidSearchAsync(SearchQuery.Header("Message-ID", "<find-me@example.com>"))).Expand(), Is.EqualTo(new uint[] { 1 }));
        Assert.That((await client.UidSearchAsync(SearchQuery.All)).Expand(), Is.EqualTo(new uint[] { 1, 2 }));
        Assert.That((await client.UidSearchAsync(SearchQuery.Uids(UidSet.Range(2, UidSet.Star)))).Expand(), Is.EqualTo(new uint[] { 2 }));
    }

    [Test]
    public async Task UidStore_AddRemoveReplace_WithKeywordsAndSilent()
    {
        await using var client = await Login("CONDSTORE");
        await client.AppendAsync("INBOX", new AppendMessage(Messages.Literal("s")));
        await client.SelectAsync("INBOX");
        var added = await client.UidStoreAsync(UidSet.Single(1), StoreMode.Add, new MessageFlags(["\\Seen", "todo"]));
        Assert.That(added.Updated.Single().Flags!.WithoutRecent(), Is.EqualTo(new MessageFlags(["\\Seen", "todo"])));
        var removed = await client.UidStoreAsync(UidSet.Single(1), StoreMode.Remove, new MessageFlags(["todo"]));
        Assert.That(removed.Updated.Single().Flags!.WithoutRecent(), Is.EqualTo(new MessageFlags(["\\Seen"])));
        var silent = await client.UidStoreAsync(UidSet.Single(1), StoreMode.Replace, new MessageFlags(["\\Answered", "done"]), silent: true);
        Assert.That(silent.Updated.All(u => u.Flags is null), Is.True, "silent STORE returns no flags (only MODSEQ under CONDSTORE)");
        using var fetched = await client.UidFetchAsync(UidSet.Single(1), new FetchRequest(FetchItems.Flags));
        Assert.That(fetched.Messages.Single().Flags!.WithoutRecent(), Is.EqualTo(new MessageFlags(["\\Answered", "done"])));
    }

    [Test]
    public async Task UidStore_UnchangedSince_ReportsModified()
    {
        await using var client = await Login("CONDSTORE");
        await client.AppendAsync("INBOX", new AppendMessage(Messages.Literal("u")));
        await client.SelectAsync("INBOX");
        using var before = await client.UidFetchAsync(UidSet.Single(1), new FetchRequest(FetchItems.ModSeq));
        var modseq = before.Messages.Single().ModSeq!.Value;
        await client.UidStoreAsync(UidSet.Single(1), StoreMode.Add, new MessageFlags(["\\Seen"]));
        var conditional = await client.UidStoreAsync(UidSet.Single(1), StoreMode.Add, new MessageFlags(["\\Flagged"]), unchangedSince: modseq);
        Assert.That(conditional.Modified!.Expand(), Is.EqualTo(new uint[] { 1 }));
    }

    [Test]
    public async Task UidFetch_ChangedSinceWithVanished_ReportsOnlyChanges()
    {
        await using var client = await Login("QRESYNC");
        for (var i = 0; i < 4; i++) await client.AppendAsync("INBOX", new AppendMessage(Messages.Literal("c" + i)));
        var selected = await client.SelectAsync("INBOX");
        var since = selected.HighestModSeq!.Value;
        await client.UidStoreAsync(UidSet.Single(2), StoreMode.Add, new MessageFlags(["\\Seen"]));
        await client.UidStoreAsync(UidSet.Single(4), StoreMode.Add, new MessageFlags(["\\Deleted"]));
        await client.UidExpungeAsync(UidSet.Single(4));
        using var changes = await client.UidFetchAsync(UidSet.Range(1, UidSet.Star), new FetchRequest(FetchItems.Flags | FetchItems.ModSeq) { ChangedSince = since, Vanished = true });
        Assert.That(changes.Messages.Select(m => m.Uid), Is.EqualTo(new uint?[] { 2 }));
        Assert.That(changes.Vanished.Expand(), Is.EqualTo(new uint[] { 4 }));
    }

    [Test]
    public async Task UidExpunge_RemovesOnlyThatMessage_EvenWhenOthersAreDeleted()
    {
        await using var client = await Login();
        for (var i = 0; i < 3; i++) await client.AppendAsync("INBOX", new AppendMessage(Messages.Literal("e" + i), new MessageFlags(["\\Deleted"])));
        await client.SelectAsync("INBOX");
        await client.UidExpungeAsync(UidSet.Single(2));
        Assert.That((await client.UidSearchAsync(SearchQuery.All)).Expand(), Is.EqualTo(new uint[] { 1, 3 }));
        var seqs = await client.ExpungeAsync();
        Assert.That(seqs.Count, Is.EqualTo(2));
        Assert.That((await client.UidSearchAsync(SearchQuery.All)).IsEmpty, Is.True);
    }

    [Test]
    public async Task UidCopyAndMove_ReportCopyUid()
    {
        await using var client = await Login();
        await client.CreateAsync("Dest");
        await client.AppendAsync("Dest", new AppendMessage(Messages.Literal("already there")));
        for (var i = 0; i < 3; i++) await client.AppendAsync("INBOX", new AppendMessage(Messages.Literal("cm" + i)));
        await client.SelectAsync("INBOX");
        var copied = await client.UidCopyAsync(UidSet.Range(1, 2), "Dest");
        Assert.That(copied!.Pairs(), Is.EqualTo(new[] { (1u, 2u), (2u, 3u) }));
        var moved = await client.UidMoveAsync(UidSet.Single(3), "Dest");
        Assert.That(moved!.Pairs(), Is.EqualTo(new[] { (3u, 4u) }));
        Assert.That((await client.UidSearchAsync(SearchQuery.All)).Expand(), Is.EqualTo(new uint[] { 1, 2 }));
        Assert.That((await client.StatusAsync("Dest", StatusItems.Messages)).Messages, Is.EqualTo(4));
    }

    [Test]
    public async Task UidFetchStream_YieldsEveryMessageInOrder()
    {
        await using var client = await Login();
        var texts = Enumerable.Range(0, 200).Select(i => Messages.Text("stream " + i)).ToList();
        await client.MultiAppendAsync("INBOX", texts.Select(t => new AppendMessage(ImapLiteral.FromString(t))).ToList());
        await client.SelectAsync("INBOX");
        var seen = new List<string>();
        await foreach (var m in client.UidFetchStreamAsync(UidSet.All, new FetchRequest(FetchItems.Body)))
            using (m) seen.Add(Encoding.UTF8.GetString(m.Body!.ToArray()));
        Assert.That(seen, Is.EqualTo(texts));
        await client.NoopAsync();
    }

    [Test]
    public async Task UidFetchStream_StoppedEarly_LeavesConnectionUsable()
    {
        await using var client = await Login();
        await client.MultiAppendAsync("INBOX", Enumerable.Range(0, 100).Select(i => new AppendMessage(Messages.Literal("early " + i))).ToList());
        await client.SelectAsync("INBOX");
        var count = 0;
        await foreach (var m in client.UidFetchStreamAsync(UidSet.All, new FetchRequest(FetchItems.Body)))
        {
            m.Dispose();
            if (++count == 3) break;
        }
        await client.NoopAsync();
        Assert.That((await client.UidSearchAsync(SearchQuery.All)).Count, Is.EqualTo(100));
    }

    [Test]
    public async Task TwentyMegabyteMessage_AppendAndFetch_WithFlatMemory()
    {
        await using var client = await Login();
        var file = Path.Combine(Path.GetTempPath(), $"observer-big-{Guid.NewGuid():N}.eml");
        try
        {
            byte[] expected;
            await using (var output = File.Create(file))
            using (var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5))
            {
                var header = Encoding.ASCII.GetBytes(Messages.Text("big").Replace("Hello.\r\n", ""));
                await output.WriteAsync(header);
                md5.AppendData(header);
                var line = Encoding.ASCII.GetBytes(new string('x', 998) + "\r\n");
                for (var written = 0; written < 20 * 1024 * 1024; written += line.Length)
                {
                    await output.WriteAsync(line);
                    md5.AppendData(line);
                }
                expected = md5.GetHashAndReset();
            }

            var before = GC.GetTotalAllocatedBytes(precise: true);
            await client.AppendAsync("INBOX", new AppendMessage(ImapLiteral.FromFile(file)));
            await client.SelectAsync("INBOX");
            byte[] actual;
            await foreach (var m in client.UidFetchStreamAsync(UidSet.Single(1), new FetchRequest(FetchItems.Body)))
            {
                using (m)
                {
                    await using var body = m.Body!.OpenRead();
                    actual = await MD5.HashDataAsync(body);
                    Assert.That(actual, Is.EqualTo(expected));
                    Assert.That(m.Body.Length, Is.EqualTo(new FileInfo(file).Length));
                }
            }
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            Assert.That(allocated, Is.LessThan(4 * 1024 * 1024), "a 20 MB round trip must stream, not buffer");
        }
        finally
        {
            File.Delete(file);
        }
    }
}

using System.Security.Cryptography;
using System.Text;
using NUnit.Framework;
using Observer.Mail;
using Observer.Replication;

namespace Observer.MailKit.Tests.Contract;

/// <summary>
/// Messages: appended byte for byte with flags, keywords and internal dates, read back whole or as
/// summaries, found by Message-ID, flags replaced, exactly the named ones expunged, copied and moved.
/// </summary>
[TestFixtureSource(typeof(ContractTestBase), nameof(Cases))]
public class MessageContractTests(string implementation, string server) : ContractTestBase(implementation, server)
{
    // Messages every server keeps as sent: Dovecot stores bare line feeds as CRLF, Courier ends every
    // message with one, Cyrus rewrites 8-bit header bytes; those are for the copy tests and their stored forms.
    private static readonly string[] Picked = ["ordinary", "duplicate-headers", "trailing-spaces", "broken-mime", "large-attachment"];

    private static IReadOnlyList<(string Name, byte[] Bytes)> Messages => HostileMessages.All.Where(m => Picked.Contains(m.Name)).ToList();

    private static readonly DateTimeOffset Date = new(2024, 2, 29, 23, 30, 15, TimeSpan.FromHours(-5));

    private string _box = "";

    /// <summary>Appends the messages to a new folder, whose name is then in <see cref="_box"/>.</summary>
    private async Task<(IMailSession Session, AppendResult Result)> AppendAllAsync(string path)
    {
        var session = await SessionAsync();
        var folder = _box = Name(session, path);
        await session.CreateAsync(folder, None);
        var batch = Messages.Select((m, i) => new AppendMessage(ImapLiteral.FromBytes(m.Bytes),
            i == 0 ? new MessageFlags([MessageFlags.Seen, "$Label1"]) : i == 1 ? new MessageFlags([MessageFlags.Flagged]) : MessageFlags.None,
            Date.AddMinutes(i))).ToList();
        var result = await session.AppendAsync(folder, batch, None);
        return (session, result);
    }

    [Test]
    public async Task Appended_ComeBackByteForByte_WithFlagsKeywordsDatesAndSizes()
    {
        var (session, result) = await AppendAllAsync("Box");
        if (session.Features.UidPlus)
            Assert.That(result.Uids?.Expand(), Is.EqualTo(new uint[] { 1, 2, 3, 4, 5 }), "APPENDUID names every copy, in order");

        await session.SelectAsync(_box, readOnly: true, null, None);
        var seen = new Dictionary<uint, (string Md5, MessageFlags Flags, DateTimeOffset? Date, long? Size)>();
        await foreach (var message in session.FetchMessagesAsync(UidSet.All, None))
            using (message)
                seen[message.Uid!.Value] = (Convert.ToHexString(await Md5Async(message.Body!)), message.Flags!, message.InternalDate, message.Size);

        Assert.That(seen.Keys.Order(), Is.EqualTo(new uint[] { 1, 2, 3, 4, 5 }));
        for (var i = 0; i < Messages.Count; i++)
        {
            var (md5, flags, date, size) = seen[(uint)i + 1];
            Assert.That(md5, Is.EqualTo(Convert.ToHexString(MD5.HashData(Messages[i].Bytes))), Messages[i].Name);
            Assert.That(size, Is.EqualTo(Messages[i].Bytes.Length), Messages[i].Name);
            Assert.That(date, Is.EqualTo(Date.AddMinutes(i)), Messages[i].Name);
        }
        Assert.That(seen[1].Flags.Contains(MessageFlags.Seen) && seen[1].Flags.Contains("$Label1"), Is.True, seen[1].Flags.ToString());
        Assert.That(seen[2].Flags.Contains(MessageFlags.Flagged) && !seen[2].Flags.Contains(MessageFlags.Seen), Is.True, "fetching a body does not mark it read");
    }

    [Test]
    public async Task BodiesAlone_ComeBackByteForByte_InUidOrder_AndUidsThatDoNotExistAreLeftOut()
    {
        var (session, _) = await AppendAllAsync("Box");
        await session.SelectAsync(_box, readOnly: false, null, None);
        await session.ExpungeAsync(UidSet.Single(3), None);
        var seen = new List<(uint Uid, string Md5)>();
        // 3 is expunged and 9 never was: neither may shift another message's bytes onto its UID.
        await foreach (var message in session.FetchBodiesAsync(UidSet.FromUids([1, 3, 4, 5, 9]), None))
            using (message)
            {
                Assert.That((message.Flags, message.InternalDate, message.Size), Is.EqualTo(((MessageFlags?)null, (DateTimeOffset?)null, (long?)null)), "bodies alone");
                seen.Add((message.Uid!.Value, Convert.ToHexString(await Md5Async(message.Body!))));
            }
        var expected = new uint[] { 1, 4, 5 }.Select(u => (u, Convert.ToHexString(MD5.HashData(Messages[(int)u - 1].Bytes)))).ToList();
        Assert.That(seen, Is.EqualTo(expected), Where);
    }

    [Test]
    public async Task Digests_AreTheBytesMd5AndLength_InUidOrder_AndUidsThatDoNotExistAreLeftOut()
    {
        var (session, _) = await AppendAllAsync("Box");
        await session.SelectAsync(_box, readOnly: false, null, None);
        await session.ExpungeAsync(UidSet.Single(3), None);
        // The 3 MB message among them is above the spool threshold: its digest is worked out the same way as a small one's.
        var seen = new List<(uint Uid, long Length, string Md5)>();
        await foreach (var digest in session.FetchDigestsAsync(UidSet.FromUids([1, 3, 4, 5, 9]), None))
            seen.Add((digest.Uid, digest.Length, Convert.ToHexString(digest.Md5)));
        var expected = new uint[] { 1, 4, 5 }.Select(u => Messages[(int)u - 1].Bytes).Select((b, i) => (new uint[] { 1, 4, 5 }[i], (long)b.Length, Convert.ToHexString(MD5.HashData(b)))).ToList();
        Assert.That(seen, Is.EqualTo(expected), Where);
    }

    [Test]
    public async Task Summaries_CarryTheMessageIdHeader_AndSearchFindsAMessageByIt()
    {
        var (session, _) = await AppendAllAsync("Box");
        await session.SelectAsync(_box, readOnly: true, null, None);
        using var summaries = await session.FetchSummariesAsync(UidSet.All, None);
        var byUid = summaries.Messages.ToDictionary(m => m.Uid!.Value);
        Assert.That(byUid, Has.Count.EqualTo(5));
        var trailing = (uint)Messages.ToList().FindIndex(m => m.Name == "trailing-spaces") + 1;
        Assert.That(Encoding.UTF8.GetString(byUid[trailing].HeaderFields!), Does.Contain("<trailing@hostile.example>"));
        Assert.That(byUid[1].Size, Is.EqualTo(Messages[0].Bytes.Length));
        Assert.That(byUid[1].InternalDate, Is.EqualTo(Date));

        var found = await session.SearchAsync(SearchQuery.Header("Message-ID", "<broken-mime@hostile.example>"), None);
        Assert.That(found.Expand(), Is.EqualTo(new[] { (uint)Messages.ToList().FindIndex(m => m.Name == "broken-mime") + 1 }));
    }

    [Test]
    public async Task Summaries_OfAMessageExpungedByAnotherClient_LeaveItOut_AndTheConnectionStays()
    {
        var (session, _) = await AppendAllAsync("Box");
        await session.SelectAsync(_box, readOnly: true, null, None);
        await using (var user = await UserAsync())
        {
            await user.SelectAsync(_box);
            await user.UidStoreAsync(UidSet.Single(1), StoreMode.Add, new MessageFlags([MessageFlags.Deleted]));
            await user.ExpungeAsync();
        }
        // Dovecot answers NIL for the headers of a message gone since the session last heard, which MailKit
        // cannot read (it drops the connection); Courier and Cyrus may still serve the session's snapshot.
        using (var summaries = await session.FetchSummariesAsync(UidSet.All, None))
        {
            var uids = summaries.Messages.Select(m => m.Uid!.Value).ToList();
            if (Server is "full" or "legacy") Assert.That(uids, Is.EqualTo(new uint[] { 2, 3, 4, 5 }), Where);
            else Assert.That(uids, Is.SupersetOf(new uint[] { 2, 3, 4, 5 }), Where);
        }
        Assert.That(session.IsConnected, Is.True, Where);
        await session.NoopAsync(None);
    }

    [Test]
    public async Task Flags_AreReplacedExactly_AndOnlyTheNamedMessagesAreExpunged()
    {
        var (session, _) = await AppendAllAsync("Box");
        await session.SelectAsync(_box, readOnly: false, null, None);
        await session.SetFlagsAsync(UidSet.Single(1), new MessageFlags([MessageFlags.Answered, "$Other"]), None);
        using (var flags = await session.FetchFlagsAsync(UidSet.Single(1), null, None))
            Assert.That(flags.Messages.Single().Flags!.WithoutRecent(), Is.EqualTo(new MessageFlags([MessageFlags.Answered, "$Other"])));

        // Another client marks message 5 deleted without expunging it: it must survive an expunge of 2 and 3.
        await using (var user = await UserAsync())
        {
            await user.SelectAsync(_box);
            await user.UidStoreAsync(UidSet.Single(5), StoreMode.Add, new MessageFlags([MessageFlags.Deleted]), silent: true);
        }
        await session.ExpungeAsync(UidSet.FromUids([2, 3]), None);
        using var left = await session.FetchFlagsAsync(UidSet.All, null, None);
        Assert.That(left.Messages.Select(m => m.Uid!.Value), Is.EqualTo(new uint[] { 1, 4, 5 }));
        Assert.That(left.Messages.Single(m => m.Uid == 5).Flags!.Contains(MessageFlags.Deleted), Is.True, "the other client's mark stays");
    }

    [Test]
    public async Task CopyAndMove_PutTheMessagesInTheOtherFolder_WithAMapWhereTheServerGivesOne()
    {
        var (session, _) = await AppendAllAsync("Box");
        var other = Name(session, "Other");
        await session.CreateAsync(other, None);
        await session.SelectAsync(_box, readOnly: false, null, None);
        var copied = await session.CopyAsync(UidSet.Single(1), other, None);
        // The engine moves only where the server can (without MOVE it copies, then expunges).
        var moved = session.Features.Move ? await session.MoveAsync(UidSet.FromUids([2, 3]), other, None) : null;
        if (!session.Features.Move)
        {
            await session.CopyAsync(UidSet.FromUids([2, 3]), other, None);
            await session.ExpungeAsync(UidSet.FromUids([2, 3]), None);
        }
        if (session.Features.UidPlus)
        {
            Assert.That(copied!.Pairs(), Is.EqualTo(new[] { (1u, 1u) }));
            if (session.Features.Move) Assert.That(moved!.Pairs(), Is.EqualTo(new[] { (2u, 2u), (3u, 3u) }));
        }
        using (var left = await session.FetchFlagsAsync(UidSet.All, null, None))
            Assert.That(left.Messages.Select(m => m.Uid!.Value), Is.EqualTo(new uint[] { 1, 4, 5 }));
        Assert.That((await session.StatusAsync(other, None)).Messages, Is.EqualTo(3u));
    }

    [Test]
    public async Task ChangesSinceAModSeq_AreOnlyTheChanged_WithTheVanished()
    {
        var (session, _) = await AppendAllAsync("Box");
        Assume.That(session.Features.QResync, Is.True, "needs QRESYNC");
        var selected = await session.SelectAsync(_box, readOnly: false, null, None);
        var since = selected.HighestModSeq!.Value;
        // Changed by another client, as the engine meets changes.
        await using (var user = await UserAsync())
        {
            await user.SelectAsync(_box);
            await user.UidStoreAsync(UidSet.Single(4), StoreMode.Replace, new MessageFlags([MessageFlags.Seen]), silent: true);
            await user.UidStoreAsync(UidSet.Single(5), StoreMode.Add, new MessageFlags([MessageFlags.Deleted]), silent: true);
            await user.UidExpungeAsync(UidSet.Single(5));
        }
        using var changed = await session.FetchFlagsAsync(UidSet.All, since, None);
        var byUid = changed.Messages.ToDictionary(m => m.Uid!.Value);
        Assert.That(byUid.Keys, Does.Contain(4u).And.Not.Contains(1u).And.Not.Contains(2u).And.Not.Contains(3u), Where);
        Assert.That(byUid[4].Flags!.Contains(MessageFlags.Seen), Is.True, Where);
        // The expunged message is reported gone, or (its expunge not yet told to this session) as marked \Deleted.
        Assert.That(changed.Vanished.Contains(5) || byUid.GetValueOrDefault(5u)?.Flags?.Contains(MessageFlags.Deleted) == true, Is.True,
            $"{Where}: vanished {changed.Vanished}, changed {string.Join(", ", byUid.Keys)}");

        await session.UnselectAsync(None);
        var resync = await session.SelectAsync(_box, readOnly: true, new QResyncParameters(selected.UidValidity, since), None);
        Assert.That(resync.Vanished.Expand(), Is.EqualTo(new uint[] { 5 }));
        Assert.That(resync.Changed.Select(m => m.Uid), Is.EqualTo(new uint?[] { 4 }));
    }

    private static async Task<byte[]> Md5Async(ImapLiteral body)
    {
        await using var stream = body.OpenRead();
        return await MD5.HashDataAsync(stream);
    }
}

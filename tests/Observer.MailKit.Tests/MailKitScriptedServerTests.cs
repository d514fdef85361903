using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;
using Observer.Mail;
using Observer.Replication;
using Observer.TestSupport;

namespace Observer.MailKit.Tests;

/// <summary>
/// What no real server does on cue, against a scripted one. MailKit's timeout is per read: a server that
/// trickles a byte now and then would hold a command for ever, so the session's deadline is per command,
/// earned by what is moved. And a NOTIFY overflow, which MailKit keeps to
/// itself, reaches the watcher as lost events.
/// </summary>
public class MailKitScriptedServerTests
{
    /// <summary>
    /// Answers whatever MailKit asks, then begins its answer to <paramref name="command"/> with <paramref name="start"/>
    /// and never finishes it: silence, or with <paramref name="trickle"/> a byte every 200 ms. An IDLE is
    /// accepted, and its DONE is what goes unanswered.
    /// </summary>
    private static Func<ScriptedSession, Task> StallOn(string command, string start, bool trickle) => async s =>
    {
        await s.GreetAsync("IMAP4rev1 AUTH=PLAIN SASL-IR ENABLE QRESYNC CONDSTORE IDLE");
        while (true)
        {
            var line = await s.ReadLineAsync();
            var tag = line.Split(' ')[0];
            if (line.Contains($" {command}", StringComparison.OrdinalIgnoreCase))
            {
                if (command == "IDLE")
                {
                    await s.SendAsync("+ idling\r\n");
                    await s.ReadLineAsync();
                }
                await s.SendAsync(start);
                while (true)
                {
                    await Task.Delay(200, s.Stopping);
                    if (trickle) await s.SendAsync("x");
                }
            }
            if (line.Contains(" SELECT ", StringComparison.OrdinalIgnoreCase))
            {
                await s.SendAsync($"* 0 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n* OK [UIDNEXT 1] n\r\n* OK [HIGHESTMODSEQ 1] m\r\n{tag} OK [READ-WRITE] done\r\n");
                continue;
            }
            if (line.Contains(" LIST ", StringComparison.OrdinalIgnoreCase)) await s.SendAsync("* LIST (\\HasNoChildren) \"/\" INBOX\r\n");
            if (line.Contains(" ENABLE ", StringComparison.OrdinalIgnoreCase)) await s.SendAsync("* ENABLED QRESYNC\r\n");
            await s.SendAsync($"{tag} OK done\r\n");
        }
    };

    /// <summary>Answers whatever MailKit asks; NOOP is answered with a notification overflow first.</summary>
    private static async Task OverflowOnNoopAsync(ScriptedSession s)
    {
        await s.GreetAsync("IMAP4rev1 AUTH=PLAIN SASL-IR");
        while (true)
        {
            var line = await s.ReadLineAsync();
            var tag = line.Split(' ')[0];
            if (line.Contains(" NOOP", StringComparison.OrdinalIgnoreCase)) await s.SendAsync("* OK [NOTIFICATIONOVERFLOW] too many notifications\r\n");
            if (line.Contains(" LIST ", StringComparison.OrdinalIgnoreCase)) await s.SendAsync("* LIST (\\HasNoChildren) \"/\" INBOX\r\n");
            await s.SendAsync($"{tag} OK done\r\n");
        }
    }

    /// <summary>LIST-STATUS that gives folder A's status the first time, and "* NO" in its place the second (a stale list).</summary>
    private static async Task StatusThenNoAsync(ScriptedSession s)
    {
        await s.GreetAsync("IMAP4rev1 AUTH=PLAIN SASL-IR LIST-EXTENDED LIST-STATUS CONDSTORE");
        var lists = 0;
        while (true)
        {
            var line = await s.ReadLineAsync();
            var tag = line.Split(' ')[0];
            if (line.Contains(" LIST ", StringComparison.OrdinalIgnoreCase))
            {
                await s.SendAsync("* LIST (\\HasNoChildren) \"/\" INBOX\r\n");
                if (line.Contains("STATUS (", StringComparison.OrdinalIgnoreCase))
                {
                    await s.SendAsync("* LIST (\\HasNoChildren) \"/\" A\r\n");
                    await s.SendAsync(++lists == 1 ? "* STATUS A (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 5 HIGHESTMODSEQ 3)\r\n" : "* NO Mailbox A vanished meanwhile\r\n");
                }
            }
            await s.SendAsync($"{tag} OK done\r\n");
        }
    }

    private static string Mail(int i) => $"Subject: m{i}\r\nMessage-ID: <m{i}@test>\r\n\r\n{new string((char)('a' + i), i == 1 ? 1000 : 300)}\r\n";

    private static string BodyResponse(int i) => $"* {i} FETCH (UID {i} BODY[] {{{Mail(i).Length}}}\r\n{Mail(i)})\r\n";

    /// <summary>
    /// Three messages whose bodies fetched together come as <paramref name="bulk"/> says; fetched alone, each
    /// is sent whole, except <paramref name="neverSent"/>, which exists but is never sent.
    /// </summary>
    private static Func<ScriptedSession, Task> ThreeMessages(Func<string> bulk, uint? neverSent = null) => async s =>
    {
        await s.GreetAsync("IMAP4rev1 AUTH=PLAIN SASL-IR UIDPLUS");
        while (true)
        {
            var line = await s.ReadLineAsync();
            var tag = line.Split(' ')[0];
            if (line.Contains(" SELECT ", StringComparison.OrdinalIgnoreCase) || line.Contains(" EXAMINE ", StringComparison.OrdinalIgnoreCase))
            {
                await s.SendAsync($"* 3 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n* OK [UIDNEXT 4] n\r\n{tag} OK [READ-ONLY] done\r\n");
                continue;
            }
            else if (line.Contains(" LIST ", StringComparison.OrdinalIgnoreCase))
                await s.SendAsync("* LIST (\\HasNoChildren) \"/\" INBOX\r\n");
            else if (line.Contains("RFC822.SIZE", StringComparison.OrdinalIgnoreCase))
                for (var i = 1; i <= 3; i++) await s.SendAsync($"* {i} FETCH (UID {i} FLAGS () INTERNALDATE \"01-Jan-2026 10:00:00 +0000\" RFC822.SIZE {Mail(i).Length})\r\n");
            else if (line.EndsWith(" UID", StringComparison.OrdinalIgnoreCase))
                foreach (var uid in UidSet.Parse(line.Split(' ')[3]).Expand()) await s.SendAsync($"* {uid} FETCH (UID {uid})\r\n");
            else if (line.Contains("BODY.PEEK[]", StringComparison.OrdinalIgnoreCase) && line.Contains("1:3", StringComparison.Ordinal))
                await s.SendAsync(bulk());
            else if (line.Contains("BODY.PEEK[]", StringComparison.OrdinalIgnoreCase))
                foreach (var uid in UidSet.Parse(line.Split(' ')[3]).Expand().Where(u => u != neverSent)) await s.SendAsync(BodyResponse((int)uid));
            await s.SendAsync($"{tag} OK done\r\n");
        }
    };

    /// <summary>
    /// Bytes lost from the middle of the first body, exactly as many as the second's answer holds: the first
    /// literal swallows that answer, and the stream is whole again at the third.
    /// </summary>
    private static string SecondSwallowedByTheFirst()
    {
        var first = BodyResponse(1);
        var cut = first.IndexOf("bbbb", StringComparison.Ordinal) + 10;
        return first.Remove(cut, BodyResponse(2).Length) + BodyResponse(2) + BodyResponse(3);
    }

    /// <summary>MailKit reports no error for any of these; only the messages missing from what it hands over show them.</summary>
    private static readonly Dictionary<string, Func<string>> BulkAnswers = new()
    {
        ["second swallowed by the first"] = SecondSwallowedByTheFirst,
        ["first answer lost whole"] = () => BodyResponse(2) + BodyResponse(3),
        ["no answer at all"] = () => "",
    };

    [Test]
    public async Task BodiesLostInAFetch_NeverMakeACorruptOrMissingMessage_EveryMessageComesWholeAndInOrder(
        [Values("second swallowed by the first", "first answer lost whole", "no answer at all")] string loss, [Values(Fetched.Messages, Fetched.Bodies, Fetched.Digests)] Fetched how)
    {
        await using var server = ScriptedImapServer.Start(ThreeMessages(BulkAnswers[loss]));
        await using var session = await ConnectAsync(server);
        await session.SelectAsync("INBOX", readOnly: true, null, CancellationToken.None);

        var digests = await FetchDigestsAsync(session, how, CancellationToken.None);

        Assert.That(digests.Select(b => b.Uid), Is.EqualTo(new uint[] { 1, 2, 3 }), "every message, the lost ones too, in UID order");
        foreach (var (uid, md5) in digests)
            Assert.That(md5, Is.EqualTo(Convert.ToHexString(MD5.HashData(Encoding.ASCII.GetBytes(Mail((int)uid))))), $"message {uid} is exactly the server's");
    }

    /// <summary>What a test fetches: whole messages, bodies alone, or only the digests of the bodies.</summary>
    public enum Fetched { Messages, Bodies, Digests }

    /// <summary>The UID and MD5 (hex) of each message, in the order the session handed them over.</summary>
    private static async Task<List<(uint Uid, string Md5)>> FetchDigestsAsync(IMailSession session, Fetched how, CancellationToken cancellationToken)
    {
        var found = new List<(uint, string)>();
        if (how == Fetched.Digests)
        {
            await foreach (var digest in session.FetchDigestsAsync(UidSet.Range(1, 3), cancellationToken))
                found.Add((digest.Uid, Convert.ToHexString(digest.Md5)));
            return found;
        }
        var fetched = how == Fetched.Bodies ? session.FetchBodiesAsync(UidSet.Range(1, 3), cancellationToken) : session.FetchMessagesAsync(UidSet.Range(1, 3), cancellationToken);
        await foreach (var message in fetched)
        {
            using (message) found.Add((message.Uid!.Value, Convert.ToHexString(MD5.HashData(message.Body!.ToArray()))));
        }
        return found;
    }

    /// <summary>A message that exists but never comes, not even asked for alone, cannot hold the fetch in a loop.</summary>
    [Test]
    public async Task AMessageThePrimaryNeverSends_IsLeftOut_AndTheFetchEnds([Values(Fetched.Messages, Fetched.Bodies, Fetched.Digests)] Fetched how)
    {
        await using var server = ScriptedImapServer.Start(ThreeMessages(() => BodyResponse(1) + BodyResponse(3), neverSent: 2));
        await using var session = await ConnectAsync(server);
        await session.SelectAsync("INBOX", readOnly: true, null, CancellationToken.None);

        using var hung = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var digests = await FetchDigestsAsync(session, how, hung.Token);

        Assert.That(digests.Select(d => d.Uid), Is.EqualTo(new uint[] { 1, 3 }));
    }

    private static async Task<IMailSession> ConnectAsync(ScriptedImapServer server)
    {
        var endpoint = new EndpointOptions
        {
            Host = "127.0.0.1",
            Port = server.Port,
            Username = "u",
            Password = "p",
            Security = ImapSecurity.None,
            CommandTimeout = TimeSpan.FromSeconds(2),
        };
        return await new MailKitMailSessionFactory(endpoint, endpoint, NullLoggerFactory.Instance).ConnectAsync(ServerRole.Primary, "test", CancellationToken.None);
    }

    [Test]
    public async Task AFolderListedWithoutItsStatusThisTime_HasNone_NotTheLastOneMailKitKept()
    {
        await using var server = ScriptedImapServer.Start(StatusThenNoAsync);
        await using var session = await ConnectAsync(server);
        var first = (await session.ListAsync(true, CancellationToken.None)).Single(m => m.Mailbox.Name == "A");
        Assert.That(first.Status?.UidNext, Is.EqualTo(2u));
        var second = (await session.ListAsync(true, CancellationToken.None)).Single(m => m.Mailbox.Name == "A");
        Assert.That(second.Status, Is.Null, "a stale status would hide changes from the engine");
    }

    [Test]
    public async Task ANotificationOverflow_IsReadAsLostEvents()
    {
        await using var server = ScriptedImapServer.Start(OverflowOnNoopAsync);
        await using var session = await ConnectAsync(server);
        Assert.That(session.Events.TryRead(out _), Is.False);
        await session.NoopAsync(CancellationToken.None);
        Assert.That(session.Events.TryRead(out var lost), Is.True);
        Assert.That(lost, Is.TypeOf<EventsLost>());
    }

    /// <summary>
    /// MailKit's own timeout is per read, so each trickled byte resets it; and an announced literal once
    /// earned its whole size at 32 KiB/s before a byte of it came (300 MB: two and a half hours, which held
    /// a hostile primary's watcher NOOP, and the service's shutdown, for as long).
    /// </summary>
    [TestCase("* OK ", true, TestName = "AnAnswerTrickledByteByByte_IsCutAfterTheCommandTimeout_WithALineSayingSo")]
    [TestCase("* 1 FETCH (UID 1 BODY[] {300000000}\r\n", false, TestName = "ALiteralAnnouncedButNeverSent_IsCutAfterTheCommandTimeout_NotAfterTheTimeItsSizeWouldTake")]
    [TestCase("* 1 FETCH (UID 1 BODY[] {300000000}\r\n", true, TestName = "ALiteralAnnouncedThenTrickled_IsCutAfterTheCommandTimeout_NotAfterTheTimeItsSizeWouldTake")]
    public async Task AStalledAnswer_IsCutAfterTheCommandTimeout(string start, bool trickle)
    {
        await using var server = ScriptedImapServer.Start(StallOn("NOOP", start, trickle));
        await using var session = await ConnectAsync(server);

        var noop = session.NoopAsync(CancellationToken.None);
        var error = Assert.ThrowsAsync<ImapConnectionException>(() => noop.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.That(error!.Message, Does.Match(@"^the primary sent only \d+ bytes in \d+ s in answer to NOOP; it is too slow or not an IMAP server, and the connection was closed$"));
        Assert.That(session.IsConnected, Is.False);
    }

    /// <summary>
    /// MailKit's own timeout does not reach a read of the stream Observer gives it, so ENABLE, sent after
    /// logging in, once waited for ever on a primary that broke off its answer, and held a whole pass.
    /// </summary>
    [Test]
    public async Task AnEnableLeftUnanswered_FailsTheConnectionAfterTheCommandTimeout_WithALineSayingSo()
    {
        await using var server = ScriptedImapServer.Start(StallOn("ENABLE", "* OK ", trickle: false));

        var error = Assert.ThrowsAsync<ImapConnectionException>(() => ConnectAsync(server).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.That(error!.Message, Does.Match(@"^the primary sent only 5 bytes in \d+ s in answer to ENABLE; it is too slow or not an IMAP server, and the connection was closed$"));
    }

    /// <summary>An IDLE may wait far longer than the command timeout; the server's answer to its DONE may not.</summary>
    [Test]
    public async Task AnIdle_OutlivesTheCommandTimeout_ButAnUnansweredDone_IsCutAfterIt()
    {
        await using var server = ScriptedImapServer.Start(StallOn("IDLE", "", trickle: false));
        await using var session = await ConnectAsync(server);
        await session.SelectAsync("INBOX", readOnly: true, null, CancellationToken.None);
        using var done = new CancellationTokenSource();

        var idle = session.IdleAsync(done.Token, CancellationToken.None);
        // Twice the command timeout (2 s) with nothing said: an IDLE is not a stalled command.
        var first = await Task.WhenAny(idle, Task.Delay(TimeSpan.FromSeconds(4)));
        Assert.That(first, Is.Not.SameAs(idle), $"the IDLE ended on its own: {idle.Exception?.InnerException?.Message}");
        done.Cancel();

        var error = Assert.ThrowsAsync<ImapConnectionException>(() => idle.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.That(error!.Message, Does.Match(@"^the primary sent only \d+ bytes in \d+ s in answer to IDLE; it is too slow or not an IMAP server, and the connection was closed$"));
        Assert.That(session.IsConnected, Is.False);
    }
}

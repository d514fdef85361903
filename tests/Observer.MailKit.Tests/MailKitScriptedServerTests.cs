using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;
using Observer.Mail;
using Observer.Replication;
using Observer.TestSupport;

namespace Observer.MailKit.Tests;

/// <summary>
/// What no real server does on cue, against a scripted one. MailKit's timeout is per read: a server that
/// trickles a byte now and then would hold a command for ever, so the session's deadline is per command,
/// earned by what is moved, as the built-in client's is. And a NOTIFY overflow, which MailKit keeps to
/// itself, reaches the watcher as lost events.
/// </summary>
public class MailKitScriptedServerTests
{
    /// <summary>Answers whatever MailKit asks while logging in, then trickles its answer to NOOP.</summary>
    private static async Task TrickleNoopAsync(ScriptedSession s)
    {
        await s.GreetAsync("IMAP4rev1 AUTH=PLAIN SASL-IR");
        while (true)
        {
            var line = await s.ReadLineAsync();
            var tag = line.Split(' ')[0];
            if (line.Contains(" NOOP", StringComparison.OrdinalIgnoreCase))
            {
                // A line that never ends: each byte is activity, none of it is progress.
                await s.SendAsync("* OK ");
                while (true)
                {
                    await Task.Delay(200, s.Stopping);
                    await s.SendAsync("x");
                }
            }
            if (line.Contains(" LIST ", StringComparison.OrdinalIgnoreCase)) await s.SendAsync("* LIST (\\HasNoChildren) \"/\" INBOX\r\n");
            await s.SendAsync($"{tag} OK done\r\n");
        }
    }

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

    [Test]
    public async Task AnAnswerTrickledByteByByte_IsCutAfterTheCommandTimeout_WithALineSayingSo()
    {
        await using var server = ScriptedImapServer.Start(TrickleNoopAsync);
        await using var session = await ConnectAsync(server);

        // Without a per-command deadline this would wait for ever: each byte resets MailKit's own timeout.
        var noop = session.NoopAsync(CancellationToken.None);
        var error = Assert.ThrowsAsync<ImapConnectionException>(() => noop.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.That(error!.Message, Does.Match(@"^the primary sent only \d+ bytes in \d+ s in answer to NOOP; it is too slow or not an IMAP server, and the connection was closed$"));
        Assert.That(session.IsConnected, Is.False);
    }
}

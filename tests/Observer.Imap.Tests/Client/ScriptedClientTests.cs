using System.Text;
using Microsoft.Extensions.Logging;
using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Imap.Tests;

/// <summary>Client behaviour against a scripted server, for what a real server will not do on request.</summary>
public class ScriptedClientTests
{
    private static async Task<ImapClient> Connect(ScriptedImapServer server, Func<ImapClientOptions, ImapClientOptions>? adjust = null) =>
        await ImapClient.ConnectAsync(adjust is null ? server.Options : adjust(server.Options));

    [Test]
    public async Task Connect_ByeGreeting_FailsWithTheServersWords()
    {
        await using var server = ScriptedImapServer.Start(s => s.SendAsync("* BYE Too many connections from your IP\r\n"));
        var ex = Assert.ThrowsAsync<ImapConnectionException>(() => Connect(server));
        Assert.That(ex!.Message, Does.Contain("Too many connections"));
    }

    [Test]
    public async Task Connect_PreAuthGreeting_IsAuthenticated()
    {
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.SendAsync("* PREAUTH [CAPABILITY IMAP4rev1] welcome\r\n");
            await s.ReadLineAsync();
        });
        await using var client = await Connect(server);
        Assert.That(client.IsAuthenticated, Is.True);
    }

    [Test]
    public async Task Connect_GreetingWithoutCapabilities_AsksForThem()
    {
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.SendAsync("* OK hello\r\n");
            var tag = await s.ExpectAsync("CAPABILITY");
            await s.SendAsync($"* CAPABILITY IMAP4rev1 IDLE LITERAL+\r\n{tag} OK done\r\n");
            await s.ReadLineAsync();
        });
        await using var client = await Connect(server);
        Assert.That(client.Capabilities.Idle, Is.True);
    }

    [Test]
    public async Task Login_LoginDisabled_RefusesWithoutSendingThePassword()
    {
        var received = new List<string>();
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync("IMAP4rev1 STARTTLS LOGINDISABLED");
            received.Add(await s.ReadLineAsync());
        });
        await using var client = await Connect(server);
        var ex = Assert.ThrowsAsync<ImapAuthenticationException>(() => client.LoginAsync("alice", "secret-pw"));
        Assert.That(ex!.Message, Does.Contain("LOGINDISABLED"));
        await client.DisposeAsync();
        Assert.That(received, Has.None.Contains("secret-pw"));
    }

    [Test]
    public async Task Login_Refused_IsAnAuthenticationErrorWithTheCode()
    {
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync();
            var tag = await s.ExpectAsync("LOGIN");
            await s.SendAsync($"{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
            await s.ReadLineAsync();
        });
        await using var client = await Connect(server);
        var ex = Assert.ThrowsAsync<ImapAuthenticationException>(() => client.LoginAsync("alice", "wrong"));
        Assert.That(ex!.Code!.Kind, Is.EqualTo(ResponseCodeKind.AuthenticationFailed));
        Assert.That(ex.Message, Does.Not.Contain("wrong"));
    }

    [Test]
    public async Task Login_CapabilitiesAfterLogin_ReplaceThoseBefore()
    {
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync("IMAP4rev1 AUTH=PLAIN");
            await s.AcceptLoginAsync("IMAP4rev1 IDLE QRESYNC UIDPLUS");
            await s.ReadLineAsync();
        });
        await using var client = await Connect(server);
        await client.LoginAsync("alice", "pw");
        Assert.That((client.Capabilities.QResync, client.Capabilities.SupportsAuth("PLAIN")), Is.EqualTo((true, false)));
    }

    [Test]
    public void Authenticator_PlaintextToRemoteHost_IsRefused()
    {
        Assert.That(Authenticator.IsLoopback("127.0.0.1"), Is.True);
        Assert.That(Authenticator.IsLoopback("::1"), Is.True);
        Assert.That(Authenticator.IsLoopback("localhost"), Is.True);
        Assert.That(Authenticator.IsLoopback("mail.example.com"), Is.False);
        Assert.That(Authenticator.IsLoopback("192.0.2.10"), Is.False);
    }

    [Test]
    public async Task Authenticate_PlainWithSaslIr_SendsInitialResponseInline()
    {
        string? line = null;
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync("IMAP4rev1 SASL-IR AUTH=PLAIN");
            var tag = await s.ExpectAsync("AUTHENTICATE PLAIN ");
            line = s.LastLine;
            await s.SendAsync($"{tag} OK [CAPABILITY IMAP4rev1] ok\r\n");
            await s.ReadLineAsync();
        });
        await using var client = await Connect(server);
        await client.AuthenticateAsync(SaslMechanism.Plain("alice", "pw"));
        var b64 = line!.Split(' ')[^1];
        Assert.That(Encoding.UTF8.GetString(Convert.FromBase64String(b64)), Is.EqualTo("\0alice\0pw"));
    }

    [Test]
    public async Task Authenticate_PlainWithoutSaslIr_AnswersTheEmptyChallenge()
    {
        string? response = null;
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync("IMAP4rev1 AUTH=PLAIN");
            var tag = await s.ExpectAsync("AUTHENTICATE PLAIN");
            await s.SendAsync("+ \r\n");
            response = await s.ReadLineAsync();
            await s.SendAsync($"{tag} OK [CAPABILITY IMAP4rev1] ok\r\n");
            await s.ReadLineAsync();
        });
        await using var client = await Connect(server);
        await client.AuthenticateAsync(SaslMechanism.Plain("alice", "pw"));
        Assert.That(Encoding.UTF8.GetString(Convert.FromBase64String(response!)), Is.EqualTo("\0alice\0pw"));
        Assert.That(client.IsAuthenticated, Is.True);
    }

    [Test]
    public async Task Authenticate_XOAuth2Error_AnswersEmptyAndReportsFailure()
    {
        string? initial = null, afterError = null;
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync("IMAP4rev1 SASL-IR AUTH=XOAUTH2");
            var tag = await s.ExpectAsync("AUTHENTICATE XOAUTH2 ");
            initial = s.LastLine.Split(' ')[^1];
            await s.SendAsync("+ eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIn0=\r\n");
            afterError = await s.ReadLineAsync();
            await s.SendAsync($"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials\r\n");
            await s.ReadLineAsync();
        });
        await using var client = await Connect(server);
        Assert.ThrowsAsync<ImapAuthenticationException>(() => client.AuthenticateAsync(SaslMechanism.XOAuth2("alice@example.com", "ya29.token")));
        Assert.That(Encoding.UTF8.GetString(Convert.FromBase64String(initial!)), Is.EqualTo("user=alice@example.com\x01auth=Bearer ya29.token\x01\x01"));
        Assert.That(afterError, Is.Empty);
    }

    [Test]
    public async Task Authenticate_OAuthBearer_SendsGs2HeaderHostAndPort()
    {
        string? initial = null;
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync("IMAP4rev1 SASL-IR AUTH=OAUTHBEARER");
            var tag = await s.ExpectAsync("AUTHENTICATE OAUTHBEARER ");
            initial = s.LastLine.Split(' ')[^1];
            await s.SendAsync($"{tag} OK [CAPABILITY IMAP4rev1] ok\r\n");
            await s.ReadLineAsync();
        });
        await using var client = await Connect(server);
        await client.AuthenticateAsync(SaslMechanism.OAuthBearer("a,b=c", "tok", "imap.example.com", 993));
        Assert.That(Encoding.UTF8.GetString(Convert.FromBase64String(initial!)),
            Is.EqualTo("n,a=a=2Cb=3Dc,\x01host=imap.example.com\x01port=993\x01auth=Bearer tok\x01\x01"));
    }

    [Test]
    public async Task Trace_NeverContainsPasswordsOrTokens()
    {
        var log = new CapturingLogger();
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync("IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2");
            var tag = await s.ExpectAsync("LOGIN");
            await s.SendAsync($"{tag} OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2] ok\r\n");
            tag = await s.ExpectAsync("AUTHENTICATE PLAIN");
            await s.SendAsync("+ \r\n");
            await s.ReadLineAsync();
            await s.SendAsync($"{tag} OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2] ok\r\n");
            tag = await s.ExpectAsync("AUTHENTICATE XOAUTH2");
            await s.SendAsync("+ \r\n");
            await s.ReadLineAsync();
            await s.SendAsync($"{tag} OK [CAPABILITY IMAP4rev1] ok\r\n");
            await s.ReadLineAsync();
        });
        await using var client = await Connect(server, o => o with { ProtocolLogger = log, TraceName = "t" });
        await client.LoginAsync("alice", "Pa55w0rd!\"quoted");
        await client.AuthenticateAsync(SaslMechanism.Plain("alice", "Pa55w0rd!\"quoted"));
        await client.AuthenticateAsync(SaslMechanism.XOAuth2("alice", "ya29.SECRET-TOKEN"));
        var text = log.AllText;
        Assert.That(text, Does.Contain("LOGIN alice <redacted>"), "the trace is on, so the test can fail");
        foreach (var secret in new[] { "Pa55w0rd", "SECRET-TOKEN", Convert.ToBase64String(Encoding.UTF8.GetBytes("\0alice\0Pa55w0rd!\"quoted"))[..12] })
            Assert.That(text, Does.Not.Contain(secret));
    }

    [Test]
    public async Task Append_WithoutLiteralPlus_WaitsForContinuation()
    {
        var steps = new List<string>();
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync("IMAP4rev1 UIDPLUS");
            var tag = await s.ExpectAsync("APPEND INBOX (\\Seen) ");
            steps.Add(s.LastLine);
            await s.SendAsync("+ go ahead\r\n");
            steps.Add(Encoding.ASCII.GetString(await s.ReadExactAsync(5)));
            steps.Add(await s.ReadLineAsync());
            await s.SendAsync($"{tag} OK [APPENDUID 7 42] done\r\n");
            await s.ReadLineAsync();
        });
        await using var client = await Connect(server);
        var result = await client.AppendAsync("INBOX", new AppendMessage(ImapLiteral.FromString("hello"), new MessageFlags(["\\Seen", "\\Recent"])));
        Assert.That(steps[0], Does.EndWith("{5}"));
        Assert.That(steps[1], Is.EqualTo("hello"));
        Assert.That((result.UidValidity, result.Uids!.ToString()), Is.EqualTo(((uint?)7, "42")));
    }

    [Test]
    public async Task Append_RefusedBeforeLiteral_IsACommandErrorAndConnectionStaysUsable()
    {
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync("IMAP4rev1");
            var tag = await s.ExpectAsync("APPEND");
            await s.SendAsync($"{tag} NO [OVERQUOTA] Quota exceeded (mailbox for user is full)\r\n");
            tag = await s.ExpectAsync("NOOP");
            await s.SendAsync($"{tag} OK noop\r\n");
            await s.ReadLineAsync();
        });
        await using var client = await Connect(server);
        var ex = Assert.ThrowsAsync<ImapCommandException>(() => client.AppendAsync("INBOX", new AppendMessage(ImapLiteral.FromString("hello"))));
        Assert.That((ex!.Code!.Kind, ex.ServerText), Is.EqualTo((ResponseCodeKind.OverQuota, "Quota exceeded (mailbox for user is full)")));
        await client.NoopAsync();
        Assert.That(client.IsConnected, Is.True);
    }

    [Test]
    public async Task Append_LiteralMinus_SmallIsNonSynchronisingLargeIsNot()
    {
        var lines = new List<string>();
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync("IMAP4rev1 LITERAL-");
            var tag = await s.ExpectAsync("APPEND");
            lines.Add(s.LastLine);
            await s.ReadExactAsync(10);
            await s.ReadLineAsync();
            await s.SendAsync($"{tag} OK done\r\n");
            tag = await s.ExpectAsync("APPEND");
            lines.Add(s.LastLine);
            await s.SendAsync("+ ok\r\n");
            await s.ReadExactAsync(5000);
            await s.ReadLineAsync();
            await s.SendAsync($"{tag} OK done\r\n");
            await s.ReadLineAsync();
        });
        await using var client = await Connect(server);
        await client.AppendAsync("INBOX", new AppendMessage(ImapLiteral.FromBytes(new byte[10])));
        await client.AppendAsync("INBOX", new AppendMessage(ImapLiteral.FromBytes(new byte[5000])));
        Assert.That(lines[0], Does.EndWith("{10+}"));
        Assert.That(lines[1], Does.EndWith("{5000}"));
    }

    [Test]
    public async Task MultiAppend_SendsAllMessagesInOneCommand()
    {
        var line = "";
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync("IMAP4rev1 LITERAL+ MULTIAPPEND UIDPLUS");
            var tag = await s.ExpectAsync("APPEND");
            line = s.LastLine;
            await s.ReadExactAsync(1);
            line += await s.ReadLineAsync();
            await s.ReadExactAsync(2);
            await s.ReadLineAsync();
            await s.SendAsync($"{tag} OK [APPENDUID 9 5:6] done\r\n");
            await s.ReadLineAsync();
        });
        await using var client = await Connect(server);
        var date = new DateTimeOffset(2020, 2, 3, 4, 5, 6, TimeSpan.Zero);
        var result = await client.MultiAppendAsync("Archive", [
            new AppendMessage(ImapLiteral.FromString("a"), new MessageFlags(["kw"]), date),
            new AppendMessage(ImapLiteral.FromString("bb")),
        ]);
        Assert.That(line, Is.EqualTo("APPEND Archive (kw) \"03-Feb-2020 04:05:06 +0000\" {1+} {2+}".Insert(0, line.Split(' ')[0] + " ")));
        Assert.That(result.Uids!.Expand(), Is.EqualTo(new uint[] { 5, 6 }));
    }

    [Test]
    public async Task UntaggedData_ArrivesAsTypedEvents()
    {
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync();
            var tag = await s.ExpectAsync("NOOP");
            await s.SendAsync(
                "* 5 EXISTS\r\n* 3 EXPUNGE\r\n* VANISHED (EARLIER) 7:9\r\n* VANISHED 10\r\n* 2 FETCH (UID 4 FLAGS (\\Seen) MODSEQ (12))\r\n"
                + "* FLAGS (\\Seen kw)\r\n* OK [PERMANENTFLAGS (\\Seen \\*)] ok\r\n* STATUS Other (MESSAGES 3 UIDNEXT 9)\r\n"
                + "* LIST () \"/\" New (\"OLDNAME\" (Old))\r\n* OK [ALERT] disk full\r\n* OK [UIDVALIDITY 99] v\r\n* OK [UIDNEXT 10] n\r\n"
                + "* OK [HIGHESTMODSEQ 12] h\r\n* OK [NOMODSEQ] no\r\n* OK [CLOSED] c\r\n* NO [OVERQUOTA] q\r\n* OK [READ-ONLY] r\r\n"
                + "* NO [ALREADYEXISTS] a\r\n* NO [NONEXISTENT] n\r\n");
            await s.SendAsync($"{tag} OK noop\r\n* BYE shutting down\r\n");
            s.Close();
        });
        await using var client = await Connect(server);
        await client.NoopAsync();
        var events = new List<UntaggedResponse>();
        try
        {
            await foreach (var e in client.Events.ReadAllAsync()) events.Add(e);
        }
        catch (ImapConnectionException ex)
        {
            Assert.That(ex.Message, Does.Contain("shutting down"));
        }
        Assert.That(events.OfType<ExistsResponse>().Single().Count, Is.EqualTo(5));
        Assert.That(events.OfType<ExpungeResponse>().Single().Sequence, Is.EqualTo(3));
        Assert.That(events.OfType<VanishedResponse>().Select(v => v.Earlier), Is.EqualTo(new[] { true, false }));
        Assert.That(events.OfType<FetchResponse>().Single().Data.Uid, Is.EqualTo(4));
        Assert.That(events.OfType<FlagsResponse>().Count(), Is.EqualTo(1));
        Assert.That(events.OfType<MailboxStatusResponse>().Single().Mailbox, Is.EqualTo("Other"));
        Assert.That(events.OfType<ListResponse>().Single().Mailbox.OldName, Is.EqualTo("Old"));
        var codes = events.OfType<UntaggedConditionResponse>().Select(c => c.Code?.Kind).ToList();
        Assert.That(codes, Is.SupersetOf(new ResponseCodeKind?[] {
            ResponseCodeKind.PermanentFlags, ResponseCodeKind.Alert, ResponseCodeKind.UidValidity, ResponseCodeKind.UidNext,
            ResponseCodeKind.HighestModSeq, ResponseCodeKind.NoModSeq, ResponseCodeKind.Closed, ResponseCodeKind.OverQuota,
            ResponseCodeKind.ReadOnly, ResponseCodeKind.AlreadyExists, ResponseCodeKind.NonExistent }));
        Assert.That(events.OfType<UntaggedConditionResponse>().Any(c => c.Condition == ResponseCondition.Bye), Is.True);
    }

    [Test]
    public async Task UidFetch_UnsolicitedFetchOfAnotherUid_GoesToTheEventsNotTheResult()
    {
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync();
            var tag = await s.ExpectAsync("UID FETCH 10:*");
            await s.SendAsync($"* 3 FETCH (UID 3 FLAGS (\\Seen))\r\n* 10 FETCH (UID 10 FLAGS ())\r\n{tag} OK done\r\n");
            await s.ReadLineAsync();
        });
        await using var client = await Connect(server);
        using var result = await client.UidFetchAsync(UidSet.Range(10, UidSet.Star), new FetchRequest(FetchItems.Flags));
        Assert.That(result.Messages.Select(m => m.Uid), Is.EqualTo(new uint?[] { 10 }));
        Assert.That(client.Events.TryRead(out var e) && e is FetchResponse { Data.Uid: 3 }, Is.True, "another client's flag change is not swallowed");
    }

    [Test]
    public async Task EventQueue_WhenFull_DropsAndSaysSo()
    {
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync();
            var tag = await s.ExpectAsync("NOOP");
            await s.SendAsync(string.Concat(Enumerable.Range(1, 10).Select(i => $"* {i} EXISTS\r\n")) + $"{tag} OK noop\r\n");
            tag = await s.ExpectAsync("NOOP");
            await s.SendAsync($"* 11 EXISTS\r\n{tag} OK noop\r\n");
            await s.ReadLineAsync();
        });
        await using var client = await Connect(server, o => o with { EventQueueCapacity = 4 });
        await client.NoopAsync();
        var first = new List<UntaggedResponse>();
        while (client.Events.TryRead(out var e)) first.Add(e);
        await client.NoopAsync();
        client.Events.TryRead(out var marker);
        client.Events.TryRead(out var last);
        Assert.That(first.Count, Is.EqualTo(4));
        Assert.That(((EventsDroppedResponse)marker!).Count, Is.EqualTo(6));
        Assert.That(((ExistsResponse)last!).Count, Is.EqualTo(11));
    }

    [Test]
    public async Task TaggedNo_CarriesCodeAndText()
    {
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync();
            var tag = await s.ExpectAsync("SELECT");
            await s.SendAsync($"{tag} NO [NONEXISTENT] Mailbox doesn't exist: Nope\r\n");
            await s.ReadLineAsync();
        });
        await using var client = await Connect(server);
        var ex = Assert.ThrowsAsync<ImapCommandException>(() => client.SelectAsync("Nope"));
        Assert.That((ex!.Command, ex.Code!.Kind, ex.ServerText), Is.EqualTo(("SELECT", ResponseCodeKind.NonExistent, "Mailbox doesn't exist: Nope")));
        Assert.That(client.Selected, Is.Null);
    }

    [TestCase("* 1 FETCH (UID abc)\r\n")]
    [TestCase("A9999 OK who are you\r\n")]
    [TestCase("+ nobody asked\r\n")]
    [TestCase("* 1 FETCH (BODY[] {99999999999999}\r\n")]
    [TestCase("* OK [APPENDUID x] no\r\n")]
    public async Task MalformedResponse_BreaksTheConnectionWithProtocolException(string bad)
    {
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync();
            await s.ExpectAsync("NOOP");
            await s.SendAsync(bad);
            await s.ReadLineAsync();
        });
        await using var client = await Connect(server);
        Assert.ThrowsAsync<ImapProtocolException>(() => client.NoopAsync());
        Assert.That(client.IsConnected, Is.False);
        var again = Assert.ThrowsAsync<ImapConnectionException>(() => client.NoopAsync());
        Assert.That(again!.Message, Does.Contain("broken"));
    }

    [Test]
    public async Task DisconnectInsideLiteral_FailsTheCommandWithoutHanging()
    {
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync();
            await s.ExpectAsync("UID FETCH");
            await s.SendAsync("* 1 FETCH (UID 1 BODY[] {100}\r\nonly ten b");
            s.Close();
        });
        await using var client = await Connect(server);
        var fetch = client.UidFetchAsync(UidSet.Single(1), new FetchRequest(FetchItems.Body));
        Assert.That(async () => await fetch.WaitAsync(TimeSpan.FromSeconds(5)), Throws.InstanceOf<ImapConnectionException>());
    }

    [Test]
    public async Task ServerSilence_TimesOutOnInjectedClock()
    {
        var clock = new ManualTimeProvider();
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync();
            await s.ExpectAsync("NOOP");
            await s.ReadLineAsync();
        });
        await using var client = await Connect(server, o => o with { TimeProvider = clock, CommandTimeout = TimeSpan.FromMinutes(2) });
        var noop = client.NoopAsync();
        await Task.Delay(100);
        Assert.That(noop.IsCompleted, Is.False);
        clock.Advance(TimeSpan.FromMinutes(3));
        var ex = Assert.ThrowsAsync<ImapConnectionException>(() => noop.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.That(ex!.Message, Does.Contain("no response"));
    }

    [Test]
    public async Task Idle_IsReissuedBeforeServersDropIt_OnInjectedClock()
    {
        var clock = new ManualTimeProvider();
        var idles = 0;
        var dones = 0;
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync("IMAP4rev1 IDLE");
            while (true)
            {
                var tag = await s.ExpectAsync("IDLE");
                Interlocked.Increment(ref idles);
                await s.SendAsync("+ idling\r\n");
                Assert.That(await s.ReadLineAsync(), Is.EqualTo("DONE"));
                Interlocked.Increment(ref dones);
                await s.SendAsync($"{tag} OK idle done\r\n");
            }
        });
        await using var client = await Connect(server, o => o with { TimeProvider = clock, IdleRestartInterval = TimeSpan.FromMinutes(25) });
        using var done = new CancellationTokenSource();
        var idle = client.IdleAsync(done.Token);
        for (var round = 1; round <= 3; round++)
        {
            await WaitUntil(() => Volatile.Read(ref idles) == round && clock.ArmedTimers >= 2, () => $"idles={idles} dones={dones} timers={clock.ArmedTimers} fail={server.Failure} idle={idle.Status} {idle.Exception}");
            clock.Advance(TimeSpan.FromMinutes(24));
            Assert.That(Volatile.Read(ref dones), Is.EqualTo(round - 1), "IDLE must not end before the restart interval");
            clock.Advance(TimeSpan.FromSeconds(61));
            await WaitUntil(() => Volatile.Read(ref dones) == round);
        }
        await WaitUntil(() => Volatile.Read(ref idles) == 4 && clock.ArmedTimers >= 2);
        done.Cancel();
        await idle.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That((idles, dones, client.IsConnected), Is.EqualTo((4, 4, true)));
    }

    [Test]
    public async Task Utf8Accept_NamesTravelAsUtf8()
    {
        string? selectLine = null;
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync("IMAP4rev1 ENABLE UTF8=ACCEPT");
            var tag = await s.ExpectAsync("ENABLE UTF8=ACCEPT");
            await s.SendAsync($"* ENABLED UTF8=ACCEPT\r\n{tag} OK enabled\r\n");
            tag = await s.ExpectAsync("LIST");
            await s.SendAsync($"* LIST () \"/\" \"Caf\u00e9/\u65e5\u672c\"\r\n{tag} OK list\r\n");
            tag = await s.ExpectAsync("LSUB");
            await s.SendAsync($"{tag} OK lsub\r\n");
            tag = await s.ExpectAsync("SELECT");
            selectLine = s.LastLine;
            await s.SendAsync($"* OK [UIDVALIDITY 5] v\r\n{tag} OK [READ-WRITE] selected\r\n");
            await s.ReadLineAsync();
        });
        await using var client = await Connect(server);
        var enabled = await client.EnableAsync(["UTF8=ACCEPT", "QRESYNC"]);
        Assert.That(enabled, Is.EquivalentTo(new[] { "UTF8=ACCEPT" }));
        var names = await client.ListAsync();
        Assert.That(names.Single().Name, Is.EqualTo("Caf\u00e9/\u65e5\u672c"));
        await client.SelectAsync(names.Single().Name);
        Assert.That(selectLine, Does.EndWith("SELECT \"Caf\u00e9/\u65e5\u672c\""));
    }

    [Test]
    public async Task StartTls_DataInjectedBeforeHandshake_IsRefused()
    {
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync("IMAP4rev1 STARTTLS");
            var tag = await s.ExpectAsync("STARTTLS");
            await s.SendAsync($"{tag} OK begin TLS\r\n* OK injected\r\n");
            await s.ReadLineAsync();
        });
        Assert.ThrowsAsync<ImapProtocolException>(() => Connect(server, o => o with { Security = ImapSecurity.StartTls }));
    }

    [Test]
    public async Task StartTls_NotOffered_SaysWhatToDo()
    {
        await using var server = ScriptedImapServer.Start(s => s.GreetAsync("IMAP4rev1"));
        var ex = Assert.ThrowsAsync<ImapConnectionException>(() => Connect(server, o => o with { Security = ImapSecurity.StartTls }));
        Assert.That(ex!.Message, Does.Contain("does not offer STARTTLS"));
    }

    private static async Task WaitUntil(Func<bool> condition, Func<string>? state = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("condition not reached within 10 s " + state?.Invoke());
            await Task.Delay(10);
        }
    }
}

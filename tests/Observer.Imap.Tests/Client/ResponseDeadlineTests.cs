using System.Text;
using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Imap.Tests;

/// <summary>
/// Every response, and every command as a whole, must finish within a deadline: a server that
/// keeps the socket busy with a trickle is cut like a silent one, yet a large literal arriving
/// at a fair rate is not. The server is paced by the test, one step per second of the manual clock.
/// </summary>
public class ResponseDeadlineTests
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    // NUnit shares one fixture instance among its tests, so each test gets fresh ones here.
    private ManualTimeProvider _clock = null!;
    private SemaphoreSlim _pace = null!;
    private TaskCompletionSource _asked = null!;

    [SetUp]
    public void SetUp()
    {
        _clock = new ManualTimeProvider();
        _pace = new SemaphoreSlim(0);
        _asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [TearDown]
    public void TearDown() => _pace.Dispose();

    private async Task<ImapClient> Connect(ScriptedImapServer server, TimeSpan? connectTimeout = null) =>
        await ImapClient.ConnectAsync(server.Options with
        {
            TimeProvider = _clock,
            CommandTimeout = CommandTimeout,
            ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(5),
        });

    /// <summary>The server's script: waits for the test's go, then sends <paramref name="text"/>.</summary>
    private async Task NextStepAsync(ScriptedSession s, string text)
    {
        await _pace.WaitAsync(s.Stopping);
        await s.SendAsync(text);
    }

    /// <summary>
    /// Lets the server take one step, waits until the client has read what it sent, then moves the
    /// clock a second (which runs the watchdog). Returns false once the connection is broken.
    /// </summary>
    private async Task<bool> StepAsync(ImapClient client, long expectedBytes)
    {
        _pace.Release();
        await WaitUntil(() => client.Connection.BytesReceived >= expectedBytes || !client.IsConnected);
        _clock.Advance(Second);
        return client.IsConnected;
    }

    [Test]
    public async Task Response_TrickledByteByByte_IsCutSoonAfterCommandTimeout()
    {
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync();
            await s.ExpectAsync("NOOP");
            _asked.SetResult();
            // A line that never ends: each byte is activity, none of it is progress.
            while (true) await NextStepAsync(s, "*");
        });
        await using var client = await Connect(server);
        var start = client.Connection.BytesReceived;
        var noop = client.NoopAsync();
        await _asked.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var seconds = 0;
        while (seconds < 60 && await StepAsync(client, start + seconds + 1)) seconds++;
        seconds++;

        Assert.That(seconds, Is.GreaterThan(CommandTimeout.TotalSeconds), "not cut before CommandTimeout");
        Assert.That(seconds, Is.LessThanOrEqualTo(CommandTimeout.TotalSeconds + 2), "cut within the deadline");
        var ex = Assert.ThrowsAsync<ImapConnectionException>(() => noop.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.That(ex!.Message, Is.EqualTo(
            $"imap at 127.0.0.1:{server.Port} sent only {seconds} bytes in {seconds} s for one response; it is too slow or not an IMAP server"));
    }

    [Test]
    public async Task Command_AnsweredOnlyByPromptUntaggedLines_IsCutSoonAfterCommandTimeout()
    {
        const string line = "* OK still working\r\n";
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync();
            await s.ExpectAsync("NOOP");
            _asked.SetResult();
            // Each response is complete and prompt, but the command itself never is.
            while (true) await NextStepAsync(s, line);
        });
        await using var client = await Connect(server);
        var start = client.Connection.BytesReceived;
        var noop = client.NoopAsync();
        await _asked.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var seconds = 0;
        while (seconds < 60 && await StepAsync(client, start + (seconds + 1) * line.Length)) seconds++;
        seconds++;

        Assert.That(seconds, Is.GreaterThan(CommandTimeout.TotalSeconds), "not cut before CommandTimeout");
        // A step whose line is still being handled when the clock moves is not charged to the server.
        Assert.That(seconds, Is.LessThanOrEqualTo(CommandTimeout.TotalSeconds + 3), "cut within the deadline");
        var ex = Assert.ThrowsAsync<ImapConnectionException>(() => noop.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.That(ex!.Message, Does.Match($@"^imap at 127\.0\.0\.1:{server.Port} sent only \d+ bytes in \d+ s in answer to NOOP; it is too slow or not an IMAP server$"));
    }

    [Test]
    public async Task Login_TrickledAnswer_FailsWithinConnectTimeout()
    {
        const string line = "* OK checking your password\r\n";
        var connectTimeout = TimeSpan.FromSeconds(4);
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync();
            await s.ExpectAsync("LOGIN");
            _asked.SetResult();
            while (true) await NextStepAsync(s, line);
        });
        await using var client = await Connect(server, connectTimeout);
        var start = client.Connection.BytesReceived;
        var login = client.LoginAsync("alice", "secret");
        await _asked.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var seconds = 0;
        while (seconds < 60 && await StepAsync(client, start + (seconds + 1) * line.Length)) seconds++;
        seconds++;

        Assert.That(seconds, Is.GreaterThan(connectTimeout.TotalSeconds), "not cut before ConnectTimeout");
        Assert.That(seconds, Is.LessThan(CommandTimeout.TotalSeconds), "login is held to ConnectTimeout, not CommandTimeout");
        var ex = Assert.ThrowsAsync<ImapConnectionException>(() => login.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.That(ex!.Message, Does.Contain("in answer to LOGIN; it is too slow"));
    }

    [Test]
    public async Task Greeting_Trickled_FailsWhenConnectTimeoutPasses()
    {
        var log = new CapturingLogger();
        await using var server = ScriptedImapServer.Start(async s =>
        {
            // Dovecot's line while its auth process is busy; the client waits on for the real greeting.
            await s.SendAsync("* OK Waiting for authentication process to respond..\r\n");
            while (true) await NextStepAsync(s, "*");
        });
        var connect = ImapClient.ConnectAsync(server.Options with { TimeProvider = _clock, ConnectTimeout = TimeSpan.FromSeconds(5), ProtocolLogger = log });
        // The first line is traced once the client reads its greeting, with the greeting's deadline armed.
        await WaitUntil(() => log.AllText.Contains("Waiting for authentication", StringComparison.Ordinal));

        for (var second = 1; second <= 4; second++)
        {
            _pace.Release();
            _clock.Advance(Second);
        }
        Assert.That(connect.IsCompleted, Is.False, "not cut before ConnectTimeout");
        _pace.Release();
        _clock.Advance(Second);

        var ex = Assert.ThrowsAsync<ImapConnectionException>(() => connect.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.That(ex!.Message, Does.Match($@"^imap at 127\.0\.0\.1:{server.Port} sent only \d+ bytes in 5 s while connecting; it is too slow or not an IMAP server$"));
    }

    [Test]
    public async Task LargeLiteral_ArrivingAtTwiceTheMinimumRate_IsNotCut()
    {
        const int size = 4 * 1024 * 1024;
        var chunk = (int)(2 * ResponseDeadlines.MinimumRate);
        var (client, server, fetch, sent) = await StartLiteralAsync(size, chunk);
        await using var _ = server;
        await using var __ = client;

        // 64 steps: far beyond CommandTimeout, well within the literal's allowance.
        for (var step = 1; step <= size / chunk; step++)
            Assert.That(await StepAsync(client, sent + (long)step * chunk), Is.True, $"cut after {step} s");
        _pace.Release();

        var result = await fetch.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(result.Messages.Single().Body!.Length, Is.EqualTo(size));
        Assert.That(client.IsConnected, Is.True);
        foreach (var m in result.Messages) m.Dispose();
    }

    [Test]
    public async Task LargeLiteral_ArrivingAtHalfTheMinimumRate_IsCutWhenItsAllowanceRunsOut()
    {
        const int size = 4 * 1024 * 1024;
        var chunk = (int)(ResponseDeadlines.MinimumRate / 2);
        var (client, server, fetch, sent) = await StartLiteralAsync(size, chunk);
        await using var _ = server;
        await using var __ = client;

        var allowance = CommandTimeout.TotalSeconds + (double)size / ResponseDeadlines.MinimumRate;
        var seconds = 0;
        while (seconds < size / chunk && await StepAsync(client, sent + (long)(seconds + 1) * chunk)) seconds++;
        seconds++;

        Assert.That(seconds, Is.GreaterThan(allowance), "the literal's allowance is honoured");
        Assert.That(seconds, Is.LessThanOrEqualTo(allowance + 2), "and is all it gets");
        var ex = Assert.ThrowsAsync<ImapConnectionException>(() => fetch.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.That(ex!.Message, Does.Contain("for one response; it is too slow"));
    }

    /// <summary>Starts a UID FETCH whose answer is a literal of <paramref name="size"/> sent in paced chunks.</summary>
    private async Task<(ImapClient Client, ScriptedImapServer Server, Task<FetchResult> Fetch, long HeaderSent)> StartLiteralAsync(int size, int chunk)
    {
        var header = $"* 1 FETCH (UID 1 BODY[] {{{size}}}\r\n";
        var headerSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync();
            var tag = await s.ExpectAsync("UID FETCH");
            await s.SendAsync(header);
            headerSeen.SetResult();
            var bytes = Encoding.ASCII.GetBytes(new string('x', chunk));
            for (var sent = 0; sent < size; sent += chunk)
            {
                await _pace.WaitAsync(s.Stopping);
                await s.SendBytesAsync(bytes);
            }
            await NextStepAsync(s, $")\r\n{tag} OK done\r\n");
            await s.ReadLineAsync();
        });
        var client = await Connect(server);
        var start = client.Connection.BytesReceived;
        var fetch = client.UidFetchAsync(UidSet.Single(1), new FetchRequest(FetchItems.Body));
        await headerSeen.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var headerSent = start + header.Length;
        await WaitUntil(() => client.Connection.BytesReceived >= headerSent);
        return (client, server, fetch, headerSent);
    }

    [Test]
    public async Task SlowHandler_IsNotChargedToTheServer()
    {
        await using var server = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync();
            var tag = await s.ExpectAsync("NOOP");
            await s.SendAsync($"* 3 EXISTS\r\n{tag} OK done\r\n");
            await s.ReadLineAsync();
        });
        await using var client = await Connect(server);
        var handler = new BlockingHandler();
        var noop = client.Connection.ExecuteAsync(new ImapCommand("NOOP"), handler, CancellationToken.None);
        await handler.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // Our consumer holds the reader far beyond CommandTimeout: the server is not to blame.
        _clock.Advance(CommandTimeout * 10);
        Assert.That(client.IsConnected, Is.True, client.BreakReason?.Message);
        handler.Release.SetResult();

        var done = await noop.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(done.Condition, Is.EqualTo(ResponseCondition.Ok));
    }

    private sealed class BlockingHandler : IUntaggedHandler
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask<bool> HandleAsync(UntaggedResponse response, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            await Release.Task.WaitAsync(cancellationToken);
            return true;
        }
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("condition not reached within 10 s");
            await Task.Delay(5);
        }
    }
}

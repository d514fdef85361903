using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>
/// A primary that greets, then answers LOGIN one byte a second: always busy, never done. Before
/// response deadlines, `observer sync` waited on it for ever.
/// </summary>
public class TricklingServerTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-trickle-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task Sync_AgainstAPrimaryThatTricklesAfterLogin_ExitsOneWithOneLineNamingThePrimary()
    {
        await using var primary = ScriptedImapServer.Start(async s =>
        {
            await s.GreetAsync("IMAP4rev1");
            await s.ExpectAsync("LOGIN");
            foreach (var c in "* OK please wait" + new string('.', 10_000))
            {
                await s.SendAsync(c.ToString());
                await Task.Delay(TimeSpan.FromSeconds(1), s.Stopping);
            }
        });
        var timeout = TimeSpan.FromSeconds(2);
        const int attempts = 2;
        var maxDelay = TimeSpan.FromSeconds(1);
        var settings = new Dictionary<string, string>
        {
            ["Primary:Host"] = "127.0.0.1",
            ["Primary:Port"] = primary.Port.ToString(),
            ["Primary:Security"] = "None",
            ["Primary:Username"] = "alice",
            ["Primary:Password"] = "secret",
            ["Primary:ConnectTimeout"] = timeout.ToString(),
            ["Primary:CommandTimeout"] = timeout.ToString(),
            // Never reached: the primary is connected first.
            ["Replica:Host"] = "127.0.0.1",
            ["Replica:Port"] = FreePort.Next().ToString(),
            ["Replica:Security"] = "None",
            ["Replica:Username"] = "alice",
            ["Replica:Password"] = "secret",
            ["Reconnect:SyncAttempts"] = attempts.ToString(),
            ["Reconnect:InitialDelay"] = "00:00:00.200",
            ["Reconnect:MaxDelay"] = maxDelay.ToString(),
            ["State:Path"] = Path.Combine(_dir, "state.db"),
        };
        // Per attempt: TCP connect, greeting and login may each take ConnectTimeout, a response CommandTimeout,
        // the watchdog a tick more; then the backoff; then a minute for starting the process on a busy machine.
        var bound = attempts * (4 * timeout + TimeSpan.FromSeconds(1) + maxDelay) + TimeSpan.FromMinutes(1);

        var (code, output, errors) = await ObserverProcess.RunAsync("sync", settings, _dir, bound);

        Assert.That(code, Is.EqualTo(1), output + errors);
        var last = errors.Trim().Split('\n')[^1];
        Assert.That(last, Does.StartWith($"observer: the primary at 127.0.0.1:{primary.Port} sent only "));
        Assert.That(last, Does.EndWith("; it is too slow or not an IMAP server"));
        Assert.That(StackTraces.Find(errors), Is.Null);
        Assert.That(primary.Connections, Is.EqualTo(attempts), "it retried, then gave up");
        TestContext.Out.WriteLine(last);
    }
}

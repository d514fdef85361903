using System.Text.RegularExpressions;
using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

/// <summary>
/// Fault 8: hours with nothing happening. IDLE must be re-issued before servers drop it (RFC 2177
/// allows them to after 30 minutes), and replication must still work afterwards. The IMAP sessions
/// run on an injected clock, so two simulated hours take a second.
/// </summary>
public class LongIdleTests
{
    [Test]
    public async Task TwoIdleHours_IdleIsReissuedEvery25Minutes_AndTheNextChangeStillArrives()
    {
        var clock = new ManualTimeProvider();
        await using var h = await EngineHarness.CreateAsync(o => o.Watch = WatchMode.Idle, imapClock: clock, trace: true);
        await using (var primary = await h.Accounts.PrimaryClientAsync()) await MailFactory.FillAsync(primary, "INBOX", 3);
        await h.StartLiveAsync();
        await h.ConvergesAsync();
        var idlesBefore = IdleCommands(h.Log.AllText);
        Assert.That(idlesBefore, Is.GreaterThanOrEqualTo(1), "IDLE is running, so the count below means something");

        for (var minute = 0; minute < 120; minute += 5)
        {
            clock.Advance(TimeSpan.FromMinutes(5));
            await Task.Delay(50);
        }
        await Eventually.HoldsAsync(() => Task.FromResult(IdleCommands(h.Log.AllText) >= idlesBefore + 4), TimeSpan.FromSeconds(10),
            () => Task.FromResult($"{IdleCommands(h.Log.AllText)} IDLE commands"));
        Assert.That(Regex.Count(h.Log.AllText, @"idle-\d+#\d+ C: DONE"), Is.GreaterThanOrEqualTo(4));

        await using (var primary = await h.Accounts.PrimaryClientAsync())
            await primary.AppendAsync("INBOX", MailFactory.Message("after two quiet hours"));
        await h.ConvergesAsync();
        Assert.That(h.Log.AllText, Does.Not.Contain("watcher idle-1 (INBOX) stopped"), "the IDLE connection itself survived");
    }

    // The watcher's connection (idle-1#N: N numbers the process's connections) and any client's tags: "A12", or MailKit's "D00000012".
    private static int IdleCommands(string log) => Regex.Count(log, @"idle-\d+#\d+ C: [A-Z]\d+ IDLE");
}

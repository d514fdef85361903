using System.Diagnostics;
using NUnit.Framework;
using Observer.Progress;
using Observer.Replication;
using Observer.State;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>
/// Progress of long copies: the line every 10 s without a terminal (from the engine's meter, on a manual clock), and the
/// live display a person sees on a terminal (the real observer under `script`, which gives it one).
/// </summary>
[NonParallelizable]
public class ProgressTests
{
    [Test]
    public async Task WithoutATerminal_ALineEveryTenSeconds_WhileACopyIsUnderWay_AndNoneOnceItIsDone()
    {
        var time = new ManualTimeProvider();
        var log = new CapturingLogger();
        var target = new ReplicaRecord(1, "progress-" + Guid.NewGuid().ToString("N")[..8], "replica", "mirror", 0, "p", "r");
        await using (var reporter = ProgressReporter.Start(terminal: false, log, time))
        {
            ReplicationMetrics.CopyStarted(target, "INBOX", 1000);
            time.Advance(TimeSpan.FromSeconds(5));
            Assert.That(log.Lines, Is.Empty, "nothing before the first 10 s");

            ReplicationMetrics.Appended(target, "INBOX", 400, 400 * 1024);
            time.Advance(TimeSpan.FromSeconds(5));
            Assert.That(log.AllText, Is.EqualTo($"Information: copying: 400 of 1,000 messages (400 KB), 40 messages/s, about 15 s left; now in {target.Account} INBOX 400/1,000"));

            ReplicationMetrics.Appended(target, "INBOX", 600, 600 * 1024);
            ReplicationMetrics.CopyEnded(target, "INBOX", 0);
            time.Advance(TimeSpan.FromSeconds(30));
            Assert.That(log.Lines, Has.Count.EqualTo(1), "a copy done says nothing more");
        }
    }

    [Test]
    public async Task WithoutATerminal_AComparisonHasItsOwnLine()
    {
        var time = new ManualTimeProvider();
        var log = new CapturingLogger();
        var tags = new TagList { { "account", "cmp-" + Guid.NewGuid().ToString("N")[..8] }, { "replica", "replica" }, { "folder", "Archive" } };
        await using (var reporter = ProgressReporter.Start(terminal: false, log, time))
        {
            ReplicationMetrics.VerifyQueued.Add(500, tags);
            ReplicationMetrics.MessagesVerified.Add(100, tags);
            ReplicationMetrics.BytesVerified.Add(2048, tags);
            ReplicationMetrics.VerifyQueued.Add(-100, tags);
            time.Advance(TimeSpan.FromSeconds(10));
            Assert.That(log.AllText, Does.StartWith("Information: comparing (read on both servers): 100 of 500 messages (2 KB), 10 messages/s, about 40 s left; now in compare "));
            ReplicationMetrics.VerifyQueued.Add(-400, tags);
        }
    }

    [Test]
    public async Task OnATerminal_SyncShowsTheLiveDisplay_ThenItsReport()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using (var primary = await accounts.PrimaryClientAsync()) await MailFactory.FillAsync(primary, "Big", 1500);
        var dir = Directory.CreateTempSubdirectory("observer-progress-").FullName;
        try
        {
            var settings = Path.Combine(dir, "settings.json");
            ObserverProcess.WriteSettings(accounts.Settings(Path.Combine(dir, "state.db")), settings);
            var typescript = Path.Combine(dir, "typescript");
            // script(1) runs the command on a pseudo-terminal and records what the terminal was sent.
            var start = new ProcessStartInfo("script")
            {
                ArgumentList = { "-qec", $"stty cols 120; '{ObserverProcess.Executable}' sync --config '{settings}'", typescript },
                RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
            };
            using var script = Process.Start(start)!;
            script.StandardInput.Close();
            var drained = script.StandardOutput.ReadToEndAsync();
            Assert.That(script.WaitForExit(TimeSpan.FromMinutes(2)), Is.True);
            await drained;
            Assert.That(script.ExitCode, Is.Zero, File.ReadAllText(typescript));
            var seen = File.ReadAllText(typescript);
            Assert.That(seen, Does.Match(@"total\s+[\d,]+/1,500 msgs"), "the total row");
            Assert.That(seen, Does.Match(@"Big\s+[\d,]+/1,500 msgs\s+[\d.]+ (KB|MB)\s+\d+/s"), "the folder's row, with bytes and rate");
            Assert.That(seen, Does.Contain("%"));
            // The report comes once the display is cleared away, whole and in order.
            var report = seen[seen.LastIndexOf("Big ", StringComparison.Ordinal)..];
            Assert.That(report, Does.Match(@"Big\s+1500 appended\r?\n"));
            Assert.That(seen, Does.Contain("sync: the replica matches the primary"));
            Assert.That(seen.IndexOf("sync: the replica matches", StringComparison.Ordinal), Is.GreaterThan(seen.LastIndexOf("msgs", StringComparison.Ordinal)));
            Assert.That(seen, Does.Not.Contain(" info: "), "information logs give way to the display");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

using System.Text;
using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>
/// Fault 7: what the server sends is malformed, truncated, oversized, or announces absurd literals.
/// A corrupting proxy in front of a real Dovecot lets the session run normally until it strikes.
/// </summary>
[NonParallelizable]
public class HostileServerTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-hostile-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] Poison =
    [
        "* 1 FETCH (UID 1 BODY[] {99999999999999}\r\n",
        "* 1 FETCH (UID 1 BODY[] {300000000}\r\n",
        "* OK [UIDVALIDITY x] nonsense\r\n",
        "* 12 FETCH (UID ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((\r\n",
        "A9999 OK who asked\r\n",
        "+ nobody asked\r\n",
        "\0\u00ff\u00fe garbage \r\n",
    ];

    /// <summary>How Observer names a primary that sent what no IMAP server may send.</summary>
    private static readonly string[] ProtocolComplaints =
        ["malformed server response", "completed a command we never sent", "is not an IMAP server", "server announced a literal of"];

    private static Func<byte[], int, byte[]> Corrupt(Random random, double probability) => (buffer, count) =>
    {
        var chunk = buffer.AsSpan(0, count).ToArray();
        lock (random)
        {
            if (random.NextDouble() >= probability) return chunk;
            // No bytes are flipped in place: inside a message's literal no IMAP client can tell (IMAP carries
            // no checksum; on a real network TCP and TLS stop it), and Observer cannot converge on bytes the
            // server never sent. Lost, added and oversized bytes it must catch, and does.
            return random.Next(3) switch
            {
                0 => Encoding.UTF8.GetBytes(Poison[random.Next(Poison.Length)]).Concat(chunk).ToArray(),
                1 => chunk[..(chunk.Length / 2)],
                _ => Encoding.UTF8.GetBytes(new string('x', 100_000) + "\r\n"),
            };
        }
    };

    [Test]
    public async Task Run_AgainstAHostilePrimary_BreaksAndReconnectsWithoutCrashingOrGrowing_ThenConverges()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using (var filler = await accounts.PrimaryClientAsync())
        {
            await MailFactory.FillAsync(filler, "INBOX", 300);
            await MailFactory.FillAsync(filler, "Work", 100);
        }
        await using var proxy = FaultProxy.Start(PairFixture.Pair.Primary.Host, PairFixture.Pair.Primary.Port);
        proxy.ServerTransform = Corrupt(new Random(7), 0.15);
        var settings = FaultSettings.For(accounts, Path.Combine(_dir, "state.db"), primaryProxy: proxy);
        await using var observer = ObserverProcess.Start("run", settings, _dir);

        await Task.Delay(TimeSpan.FromSeconds(20));
        Assert.That(observer.HasExited, Is.False, observer.Errors);
        Assert.That(proxy.Accepted, Is.GreaterThan(5), "the hostile server forced reconnections");
        Assert.That(observer.PeakMemory, Is.LessThan(400L * 1024 * 1024), "memory stays bounded whatever the server announces");
        // Which poison meets which command is up to timing: any of the ways of naming a broken server will do.
        Assert.That(ProtocolComplaints.Any(observer.Errors.Contains), Is.True, "no break was named as the server's fault\n" + observer.Errors);
        Assert.That(StackTraces.Find(observer.Errors), Is.Null, "one clear line per break, no stack trace");

        proxy.ServerTransform = null;
        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(90), observer: observer);
        var p = await accounts.PrimarySnapshotAsync();
        Assert.That((await accounts.ReplicaSnapshotAsync()).DuplicatesAgainst(p), Is.Zero);
        observer.Terminate();
        Assert.That(await observer.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.Zero);
    }

    [Test]
    public async Task Sync_AgainstAServerThatOnlySendsGarbage_GivesUpWithinAMinuteWithOneLine()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using var proxy = FaultProxy.Start(PairFixture.Pair.Replica.Host, PairFixture.Pair.Replica.Port);
        var greeted = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
        // After the greeting, every answer announces a literal beyond any limit.
        proxy.ServerTransform = (buffer, count) => buffer.AsSpan(0, count).StartsWith("* OK"u8) && count < 300
            ? buffer.AsSpan(0, count).ToArray()
            : Encoding.ASCII.GetBytes("* 1 FETCH (UID 1 BODY[] {99999999999999}\r\n");
        var settings = accounts.Settings(Path.Combine(_dir, "state.db"));
        settings["Replica:Port"] = proxy.Port.ToString();
        var started = DateTime.UtcNow;
        var (code, output, errors) = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromSeconds(90));
        var elapsed = DateTime.UtcNow - started;
        Assert.That(code, Is.EqualTo(1));
        Assert.That(elapsed, Is.LessThan(TimeSpan.FromSeconds(60)), "the default retry limit is well under a minute");
        var last = errors.Trim().Split('\n')[^1];
        Assert.That(last, Does.StartWith("observer: the replica").And.Contain("literal of 99999999999999 bytes, above the limit"));
        Assert.That(StackTraces.Find(errors), Is.Null);
        Assert.That(proxy.Accepted, Is.GreaterThanOrEqualTo(5), "it retried before giving up");
        TestContext.Out.WriteLine($"gave up after {elapsed.TotalSeconds:0} s and {proxy.Accepted} connections: {last}");
    }
}

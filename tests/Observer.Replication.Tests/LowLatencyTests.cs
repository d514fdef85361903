using NUnit.Framework;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

/// <summary>
/// The low-latency mode's NOOP probe is a watcher of its own: with polling slowed to ten minutes and
/// no IDLE or NOTIFY, changes to the probed folder still arrive, and only there.
/// </summary>
public class LowLatencyTests
{
    [Test]
    public async Task ProbedFolder_ChangesArriveThroughTheProbeAlone_OtherFoldersWaitForThePoll()
    {
        await using var h = await EngineHarness.CreateAsync(o =>
        {
            o.Watch = WatchMode.Poll;
            o.PollInterval = TimeSpan.FromMinutes(10);
            o.LowLatency = new LowLatencyOptions { Enabled = true, Interval = TimeSpan.FromMilliseconds(20) };
        });
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 4);
        await MailFactory.FillAsync(primary, "Quiet", 2);
        await h.StartLiveAsync();
        await h.ConvergesAsync();
        Assert.That(h.Log.AllText, Does.Contain("NOOP every 20 ms on INBOX"));

        await primary.AppendAsync("Quiet", MailFactory.Message("not probed"));
        await primary.AppendAsync("INBOX", MailFactory.Message("probed", new MessageFlags(["$Work"])));
        await primary.SelectAsync("INBOX");
        await primary.UidStoreAsync(UidSet.Single(1), StoreMode.Add, new MessageFlags(["\\Flagged"]));
        await primary.UidStoreAsync(UidSet.Single(2), StoreMode.Add, new MessageFlags(["\\Deleted"]));
        await primary.UidExpungeAsync(UidSet.Single(2));

        List<string> differences = [];
        await Eventually.HoldsAsync(async () =>
        {
            differences = await h.Accounts.DifferencesAsync();
            return differences.Count > 0 && differences.All(d => d.StartsWith("Quiet:", StringComparison.Ordinal));
        }, TimeSpan.FromSeconds(20), () => Task.FromResult(string.Join("; ", differences)));
        var snapshot = await h.Accounts.ReplicaSnapshotAsync();
        Assert.That(snapshot.Folders["INBOX"], Has.Count.EqualTo(4));
        Assert.That(snapshot.Folders["Quiet"], Has.Count.EqualTo(2), "the unprobed folder is left to the ten-minute poll");
    }
}

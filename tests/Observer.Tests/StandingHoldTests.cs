using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>
/// A hold of the delete guard stands until an admin approves it, against the real Dovecot pair: a first sync over a
/// replica folder with stale copies holds their deletion, and the passes after it, with the folder grown by new mail
/// until the stale copies are a small share of it, hold it still.
/// </summary>
public class StandingHoldTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-hold-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task HeldAtAFirstSync_StaysHeldAsTheFolderGrows_UntilApproved()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using (var replica = await accounts.ReplicaClientAsync()) await MailFactory.FillAsync(replica, "Lists", 30, "stale");
        await using var primary = await accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "Lists", 20, "fresh");
        var settings = accounts.Settings(Path.Combine(_dir, "state.db"));

        var first = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(1));
        Assert.That(first.ExitCode, Is.EqualTo(1), first.Output);
        Assert.That(first.Output, Does.Match(@"Lists\s+HELD"));

        // New mail until the 30 stale copies are under a fifth of the folder: weighed afresh, they would go through.
        await MailFactory.FillAsync(primary, "Lists", 180, "later");
        for (var pass = 0; pass < 2; pass++)
        {
            var again = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(1));
            Assert.That(again.Output, Does.Match(@"Lists\s+HELD"), again.Output + again.Errors);
            Assert.That((await accounts.ReplicaSnapshotAsync()).Folders["Lists"].Count, Is.EqualTo(230), "new mail copied, the stale copies kept");
        }

        Assert.That((await ObserverProcess.RunAsync("approve", settings, _dir, TimeSpan.FromSeconds(30), "Lists")).ExitCode, Is.Zero);
        var approved = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(1));
        Assert.That(approved.ExitCode, Is.Zero, approved.Output + approved.Errors);
        Assert.That(await accounts.DifferencesAsync(), Is.Empty);
    }
}

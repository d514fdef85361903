using NUnit.Framework;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>
/// Steering Observer without stopping it, against the real Dovecot pair: a dry run that writes nothing, `--folders`
/// and Replication:Folders:Include, `verify` beside a running service during churn, and `forget --folder`.
/// </summary>
public class SteeringTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-steering-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string StatePath => Path.Combine(_dir, "state.db");

    private Task<(int ExitCode, string Output, string Errors)> Observer(Dictionary<string, string> settings, string verb, params string[] args) =>
        ObserverProcess.RunAsync(verb, settings, _dir, TimeSpan.FromMinutes(2), args);

    [Test]
    public async Task SyncDryRun_ListsWhatSyncWouldWrite_AndWritesNothing()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 5);
        await MailFactory.FillAsync(primary, "Work", 3);
        var settings = accounts.Settings(StatePath);
        Assert.That((await Observer(settings, "sync")).ExitCode, Is.Zero);

        await MailFactory.FillAsync(primary, "INBOX", 2, "later");
        await primary.SelectAsync("INBOX");
        await primary.UidStoreAsync(UidSet.Range(1, 1), StoreMode.Add, new MessageFlags(["\\Flagged"]));
        await primary.SelectAsync("Work");
        await primary.UidStoreAsync(UidSet.Range(1, 1), StoreMode.Add, new MessageFlags(["\\Deleted"]));
        await primary.UidExpungeAsync(UidSet.Range(1, 1));
        await MailFactory.FillAsync(primary, "New", 1);
        await using (var replica = await accounts.ReplicaClientAsync()) await MailFactory.FillAsync(replica, "Stray", 2);
        var before = await accounts.ReplicaSnapshotAsync();

        var (code, output, errors) = await Observer(settings, "sync", "--dry-run");
        Assert.That(code, Is.EqualTo(1), output + errors);
        Assert.That(output, Does.Match(@"(^|\n)INBOX\s+copy 2 messages \(\d+ bytes\), change the flags of 1 message\n"));
        Assert.That(output, Does.Match(@"\nWork\s+expunge 1 message\n"));
        Assert.That(output, Does.Match(@"(^|\n)New\s+create the folder, copy 1 message \(\d+ bytes\)\n"));
        Assert.That(output, Does.Match(@"\nStray\s+left alone, only on the replica \(2 messages\): not a copy Observer made; sync leaves it"));
        Assert.That(output, Does.EndWith("dry run: sync would create 1 folder, copy 3 messages (" + output.Split("copy 3 messages (")[1].Split(')')[0] +
                                         "), change the flags of 1 message, expunge 1 message on the replica. Nothing was written\n"));
        Assert.That(before.Differences(await accounts.ReplicaSnapshotAsync()), Is.Empty, "the dry run wrote nothing to the replica");

        var repair = await Observer(settings, "verify", "--repair", "--dry-run");
        Assert.That(repair.Output, Does.Match(@"\nStray\s+delete the folder, only on the replica \(2 messages\)\n"), "verify --repair deletes what sync leaves");
        Assert.That(before.Differences(await accounts.ReplicaSnapshotAsync()), Is.Empty);

        Assert.That((await Observer(settings, "sync")).ExitCode, Is.Zero);
        (code, output, _) = await Observer(settings, "sync", "--dry-run");
        Assert.That(output, Does.Match(@"^Stray\s+left alone"));
        Assert.That(output, Does.EndWith("\ndry run: nothing for sync to do. Nothing was written\n"));
        Assert.That(code, Is.Zero);
    }

    [Test]
    public async Task Folders_LooksOnlyAtMatchingFolders_AndForgetsNothingOfTheOthers()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 3);
        await MailFactory.FillAsync(primary, "Work", 2);
        await MailFactory.FillAsync(primary, "Work.Old", 1);
        await MailFactory.FillAsync(primary, "Private", 2);
        var settings = accounts.Settings(StatePath);

        var (code, output, errors) = await Observer(settings, "sync", "--folders", "Work*");
        Assert.That(code, Is.Zero, output + errors);
        var replica = await accounts.ReplicaSnapshotAsync();
        Assert.That(replica.Folders.Where(f => f.Value.Count > 0).Select(f => f.Key).Order(), Is.EqualTo(new[] { "Work", "Work/Old" }));

        Assert.That((await Observer(settings, "sync")).ExitCode, Is.Zero);
        // The others change; a look at Work alone leaves them as they were, and deletes nothing.
        await MailFactory.FillAsync(primary, "INBOX", 2, "later");
        await MailFactory.FillAsync(primary, "Work", 1, "later");
        await primary.DeleteAsync("Private");
        (code, output, errors) = await Observer(settings, "sync", "--folders", "Work");
        Assert.That(code, Is.Zero, output + errors);
        replica = await accounts.ReplicaSnapshotAsync();
        Assert.That((replica.Folders["Work"].Count, replica.Folders["INBOX"].Count), Is.EqualTo((3, 3)));
        Assert.That(replica.Folders, Does.ContainKey("Private"), "no folder is deleted under --folders");

        var verify = await Observer(settings, "verify", "--folders", "Work");
        Assert.That(verify.ExitCode, Is.Zero, verify.Output);
        Assert.That(verify.Output, Does.Not.Contain("INBOX").And.Not.Contain("Private"));

        // A move out of what is looked at: the copy in Work stays until a pass that sees both ends.
        await primary.CreateAsync("Elsewhere");
        await primary.SelectAsync("Work");
        await primary.UidMoveAsync(UidSet.Range(1, 1), "Elsewhere");
        // A rename within it: not copied afresh under a new name, but left for a pass that can tell.
        await primary.RenameAsync("Work.Old", "Work.Older");
        (code, output, errors) = await Observer(settings, "sync", "--folders", "Work*");
        Assert.That(code, Is.Zero, output + errors);
        Assert.That(errors, Does.Contain(" is gone from the primary (renamed, or deleted): new folders wait for a sync of every folder"));
        replica = await accounts.ReplicaSnapshotAsync();
        Assert.That(replica.Folders["Work"].Count, Is.EqualTo(3), "the moved message's copy is kept until its other end is seen");
        Assert.That(replica.Folders, Does.Not.ContainKey("Work/Older"));

        // A pass over every folder takes up INBOX and Private from the maps the scoped passes kept, replays the rename
        // and the move: no copy twice.
        (code, output, errors) = await Observer(settings, "sync");
        Assert.That(code, Is.Zero, output + errors);
        Assert.That(output, Does.Contain("~1"), "the rename replayed as a rename");
        var p = await accounts.PrimarySnapshotAsync();
        var r = await accounts.ReplicaSnapshotAsync();
        Assert.That(p.Differences(r), Is.Empty);
        Assert.That(r.DuplicatesAgainst(p), Is.Zero);
    }

    [Test]
    public async Task IncludeSetting_ReplicatesOnlyMatchingFolders()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 2);
        await MailFactory.FillAsync(primary, "Lists.dev", 2);
        await MailFactory.FillAsync(primary, "Lists.ops", 1);
        await MailFactory.FillAsync(primary, "Archive", 3);
        var settings = accounts.Settings(StatePath);
        settings["Replication:Folders:Include:0"] = "INBOX";
        settings["Replication:Folders:Include:1"] = "Lists.*";
        settings["Replication:Folders:Exclude:0"] = "Lists.ops";
        var (code, output, errors) = await Observer(settings, "sync");
        Assert.That(code, Is.Zero, output + errors);
        var replica = await accounts.ReplicaSnapshotAsync();
        Assert.That(replica.Folders.Where(f => f.Value.Count > 0).ToDictionary(f => f.Key, f => f.Value.Count),
            Is.EqualTo(new Dictionary<string, int> { ["INBOX"] = 2, ["Lists/dev"] = 2 }));
    }

    [Test]
    public async Task Verify_BesideARunningServiceDuringChurn_ReportsNoFalseDifference_ButARealOne()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using (var filler = await accounts.PrimaryClientAsync())
        {
            await MailFactory.FillAsync(filler, "INBOX", 20);
            await MailFactory.FillAsync(filler, "Work", 10);
            await MailFactory.FillAsync(filler, "Quiet", 5);
        }
        var settings = accounts.Settings(StatePath);
        await using var observer = ObserverProcess.Start("run", settings, _dir);
        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(60), observer: observer);

        // A user at work all through the verify: mail arrives, is read and flagged, moved and deleted.
        using var stopChurn = new CancellationTokenSource();
        var churned = 0;
        var churn = Task.Run(async () =>
        {
            await using var user = await accounts.PrimaryClientAsync();
            var mutator = new MailboxMutator(user, seed: 13, ["INBOX", "Work"]);
            while (!stopChurn.IsCancellationRequested)
            {
                await mutator.MutateOnceAsync();
                Interlocked.Increment(ref churned);
                await Task.Delay(200);
            }
        });
        // One verify of 30 messages can end before the user's next change on a fast machine: verify again, each time
        // with the same verdict, until the user has made more than ten changes while a verify ran.
        (int ExitCode, string Output, string Errors) verify;
        var (verifies, changedDuring) = (0, 0);
        do
        {
            var before = Volatile.Read(ref churned);
            verify = await Observer(settings, "verify");
            changedDuring += Volatile.Read(ref churned) - before;
            verifies++;
            Assert.That(verify.Errors, Does.Not.Contain("another observer"), "verify takes no lock");
            Assert.That(verify.ExitCode, Is.Zero, $"verify {verifies}: {verify.Output}{verify.Errors}");
            Assert.That(verify.Output, Does.Match(@"(^|\n)INBOX\s+ok: ").And.Match(@"\nWork\s+ok: ").And.Contain("verify: identical"));
        }
        while (changedDuring <= 10 && verifies < 20);
        await stopChurn.CancelAsync();
        await churn;
        Assert.That(changedDuring, Is.GreaterThan(10), "the primary changed while verify ran");

        // Damage behind Observer's back (a copy deleted on the replica) is reported. With the service stopped first:
        // a running one may sync that folder again, and repair it, before the verify's last look.
        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(60), observer: observer);
        observer.Terminate();
        Assert.That(await observer.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.Zero, observer.Errors);
        await using (var replica = await accounts.ReplicaClientAsync())
        {
            var selected = await replica.SelectAsync("Quiet");
            var first = (await replica.UidSearchAsync(SearchQuery.All)).Expand().First();
            await replica.UidStoreAsync(UidSet.Range(first, first), StoreMode.Add, new MessageFlags(["\\Deleted"]));
            await replica.UidExpungeAsync(UidSet.Range(first, first));
        }
        verify = await Observer(settings, "verify");
        Assert.That(verify.ExitCode, Is.EqualTo(1), verify.Output);
        Assert.That(verify.Output, Does.Match(@"Quiet\s+DIFFERS: 1 missing on the replica"));
    }

    [Test]
    public async Task ForgetFolder_DropsItsMap_AndTheNextSyncPairsByContentWithoutCopyingTwice()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 2);
        await MailFactory.FillAsync(primary, "Work", 4);
        var settings = accounts.Settings(StatePath);
        Assert.That((await Observer(settings, "sync")).ExitCode, Is.Zero);

        var wrong = await Observer(settings, "forget", "--folder", "work");
        Assert.That((wrong.ExitCode, wrong.Errors.Trim()), Is.EqualTo((2, "observer: the state knows no folder named 'work', but one named 'Work'; names are matched exactly")));
        var (code, output, errors) = await Observer(settings, "forget", "--folder", "Work");
        Assert.That((code, errors), Is.EqualTo((0, "")));
        Assert.That(output, Does.StartWith("forget: what the state knew of Work is deleted"));

        await MailFactory.FillAsync(primary, "Work", 1, "later");
        (code, output, errors) = await Observer(settings, "sync");
        Assert.That(code, Is.Zero, output + errors);
        Assert.That(output, Does.Match(@"Work\s.*4 adopted"), "paired by content, not copied again");
        var p = await accounts.PrimarySnapshotAsync();
        var r = await accounts.ReplicaSnapshotAsync();
        Assert.That(p.Differences(r), Is.Empty);
        Assert.That(r.DuplicatesAgainst(p), Is.Zero);
    }
}

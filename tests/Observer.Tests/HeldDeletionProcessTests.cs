using System.Text.RegularExpressions;
using NUnit.Framework;
using Observer.Mail;
using Observer.State;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>
/// Held deletions as a user meets them, with the real `observer run` (issue 8, items 1, 2 and 3):
/// only the deletions wait, nothing else does, and `observer approve` works while the service runs.
/// </summary>
public partial class HeldDeletionProcessTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-held-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string StatePath => Path.Combine(_dir, "state.db");

    [Test]
    public async Task Run_FoldersDeletedAfterTheirMailMovedToInbox_AreHeld_NewMailStillReachesInbox_ApproveAllDeletesThem()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        // Five each: fifteen copies are more than the floor (10) below which a vanish is never held.
        foreach (var folder in new[] { "A", "B", "C" })
        {
            await primary.CreateAsync(folder);
            for (var i = 0; i < 5; i++)
                await primary.AppendAsync(folder, MailFactory.Message($"in {folder} {i}", messageId: $"<{folder}.{i}.{Guid.NewGuid():N}@example.com>"));
        }
        await primary.AppendAsync("INBOX", MailFactory.Message("already in INBOX"));
        var settings = accounts.Settings(StatePath);
        var first = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(2));
        Assert.That(first.ExitCode, Is.Zero, first.Output + first.Errors);

        await primary.SelectAsync("A");
        await primary.UidMoveAsync(UidSet.All, "INBOX");
        await primary.UnselectAsync();
        foreach (var folder in new[] { "A", "B", "C" }) await primary.DeleteAsync(folder);

        await using var observer = ObserverProcess.Start("run", settings, _dir);
        await Eventually.HoldsAsync(() => Task.FromResult(observer.Errors.Contains("folder C is not deleted on the replica") || observer.HasExited),
            TimeSpan.FromSeconds(60), () => Task.FromResult(observer.Errors));
        await primary.AppendAsync("INBOX", MailFactory.Message("new mail while folder deletions are held"));
        await Eventually.HoldsAsync(async () => await InboxMatchesAsync(accounts), TimeSpan.FromSeconds(60), () => Task.FromResult(observer.Errors));
        Assert.That((await accounts.ReplicaSnapshotAsync()).Folders.Keys, Is.SupersetOf(new[] { "A", "B", "C" }), "the folder deletions wait");
        Assert.That(observer.Errors, Does.Not.Contain("EXAMINE refused").And.Not.Contain("INBOX: in trouble"));

        var approve = await ObserverProcess.RunAsync("approve", settings, _dir, TimeSpan.FromSeconds(60), "--all");
        Assert.That(approve.ExitCode, Is.Zero, approve.Output + approve.Errors);
        Assert.That(approve.Output, Does.Contain("3 held deletions approved"));
        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(60), observer: observer);

        observer.Terminate();
        Assert.That(await observer.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.Zero, observer.Errors);
        using var store = StateStore.Open(StatePath);
        Assert.That(store.Holds.All(store.Replicas.Find("replica")!.Id), Is.Empty);
    }

    [Test]
    public async Task Run_FolderDeletionsHeldWhileOneWasAlreadyPending_AreReportedOnce_WithoutABusyLoop()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        await primary.AppendAsync("INBOX", MailFactory.Message("stays"));
        var doomed = new[] { "F1", "F2", "F3", "F4" };
        // Four each: the doomed folders hold most of the mail, and more than the floor (10) of never-held deletions.
        foreach (var folder in doomed.Concat(["F5", "F6"])) await MailFactory.FillAsync(primary, folder, 4);
        var settings = accounts.Settings(StatePath);
        settings["Logging:LogLevel:Default"] = "Debug";
        // The protocol trace shows every LIST: a tree sync run in a loop shows as thousands of them.
        settings["Logging:LogLevel:Observer.Imap.Protocol"] = "Trace";
        await using var observer = ObserverProcess.Start("run", settings, _dir);
        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(60), observer: observer);

        // F1 goes first and its deletion delay (10 s) starts; then three more go, tripping the guard.
        await primary.DeleteAsync("F1");
        await Eventually.HoldsAsync(() => Task.FromResult(observer.Errors.Contains("folder F1 is gone from the primary")), TimeSpan.FromSeconds(30),
            () => Task.FromResult(observer.Errors));
        foreach (var folder in doomed.Skip(1)) await primary.DeleteAsync(folder);
        var deleted = DateTime.UtcNow;
        await Eventually.HoldsAsync(() => Task.FromResult(observer.Errors.Contains("4 of 7 folders vanished")), TimeSpan.FromSeconds(30),
            () => Task.FromResult(observer.Errors));

        // Past the moment F1's deletion would have fallen due (10 s after it went), nothing repeats.
        var listsBefore = ListCommands().Count(observer.Errors);
        var quietUntil = deleted + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < quietUntil)
        {
            var errors = observer.Errors;
            Assert.That(HeldLines(errors), Is.LessThanOrEqualTo(2 * doomed.Length), "each held folder deletion is reported once, not in a loop");
            Assert.That(ListCommands().Count(errors) - listsBefore, Is.LessThanOrEqualTo(20), "no tree sync in a loop");
            Assert.That(observer.HasExited, Is.False, errors);
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
        Assert.That(HeldLines(observer.Errors), Is.GreaterThanOrEqualTo(doomed.Length), "the test must see the deletions held");
        TestContext.Out.WriteLine($"{HeldLines(observer.Errors)} held lines, {ListCommands().Count(observer.Errors) - listsBefore} LIST commands in the quiet window");
        Assert.That((await accounts.ReplicaSnapshotAsync()).Folders.Keys, Is.SupersetOf(doomed));

        observer.Terminate();
        Assert.That(await observer.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.Zero);
    }

    private static int HeldLines(string errors) =>
        errors.Split('\n').Count(l => l.Contains("is not deleted on the replica", StringComparison.Ordinal) && l.Contains("folders vanished", StringComparison.Ordinal));

    [GeneratedRegex(@" C: \S+ LIST ")]
    private static partial Regex ListCommands();

    [Test]
    public async Task Run_InboxDeletionsMadeWhileStopped_AreHeld_NewMailStillReplicates_ApproveWhileRunningApplies()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 34);
        var settings = accounts.Settings(StatePath);
        var first = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(2));
        Assert.That(first.ExitCode, Is.Zero, first.Output + first.Errors);

        // While observer is stopped, the user deletes 15 of 34 in one go.
        await primary.SelectAsync("INBOX");
        await primary.UidStoreAsync(UidSet.Range(1, 15), StoreMode.Add, new MessageFlags([MessageFlags.Deleted]), silent: true);
        await primary.ExpungeAsync();
        await primary.UnselectAsync();

        await using var observer = ObserverProcess.Start("run", settings, _dir);
        await Eventually.HoldsAsync(() => Task.FromResult(observer.Errors.Contains("INBOX: deletions held back") || observer.HasExited),
            TimeSpan.FromSeconds(60), () => Task.FromResult(observer.Errors));
        await primary.AppendAsync("INBOX", MailFactory.Message("new mail into the held INBOX"));
        var newMail = (await accounts.PrimarySnapshotAsync()).Folders["INBOX"].Select(m => m.Md5).ToList();
        await Eventually.HoldsAsync(async () => (await accounts.ReplicaSnapshotAsync()).Folders["INBOX"].Select(m => m.Md5).Intersect(newMail).Count() == newMail.Count,
            TimeSpan.FromSeconds(60), () => Task.FromResult(observer.Errors));
        Assert.That((await accounts.ReplicaSnapshotAsync()).Folders["INBOX"], Has.Count.EqualTo(35), "new mail is copied, nothing is deleted");

        var approve = await ObserverProcess.RunAsync("approve", settings, _dir, TimeSpan.FromSeconds(60), "INBOX");
        Assert.That(approve.ExitCode, Is.Zero, approve.Output + approve.Errors);
        Assert.That(approve.Output, Does.Contain("1 held deletion approved; the running service applies them within seconds"));
        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(30), observer: observer);
        Assert.That(observer.Errors, Does.Contain("INBOX: hold released: approved and applied"));

        observer.Terminate();
        Assert.That(await observer.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.Zero, observer.Errors);
    }

    [Test]
    public async Task Status_ListsAHeldFolder_WithTheCommandThatApprovesIt()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 34);
        var settings = accounts.Settings(StatePath);
        Assert.That((await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(2))).ExitCode, Is.Zero);
        await primary.SelectAsync("INBOX");
        await primary.UidStoreAsync(UidSet.Range(1, 15), StoreMode.Add, new MessageFlags([MessageFlags.Deleted]), silent: true);
        await primary.ExpungeAsync();
        var held = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(2));
        Assert.That(held.ExitCode, Is.EqualTo(1), held.Output);
        Assert.That(held.Output, Does.Contain("INBOX").And.Contain("HELD"));

        var status = await ObserverProcess.RunAsync("status", settings, _dir, TimeSpan.FromSeconds(30));
        Assert.That(status.Output, Does.Contain("INBOX").And.Contain("observer approve INBOX"), status.Output);
    }

    private static async Task<bool> InboxMatchesAsync(PairAccounts accounts)
    {
        var primary = (await accounts.PrimarySnapshotAsync()).Folders["INBOX"].Select(m => m.Md5).Order();
        var replica = (await accounts.ReplicaSnapshotAsync()).Folders["INBOX"].Select(m => m.Md5).Order();
        return primary.SequenceEqual(replica);
    }
}

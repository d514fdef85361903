using System.Text;
using NUnit.Framework;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>
/// What Cyrus and Courier do differently from Dovecot, each met on the real server (issue 8, items 4,
/// 5 and 6), through the `observer` command as an admin runs it.
/// </summary>
[NonParallelizable]
public class ServerQuirkTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-quirks-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string StatePath => Path.Combine(_dir, "state.db");

    /// <summary>A message without a final line ending, which Courier stores with one.</summary>
    private static AppendMessage Odd(string body, string subject) =>
        new(ImapLiteral.FromBytes(Encoding.UTF8.GetBytes($"From: a@example.com\r\nSubject: {subject}\r\nMessage-ID: <{Guid.NewGuid():N}@example.com>\r\n\r\n{body}")), null,
            new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));

    [Test]
    public async Task CourierReplica_AnnouncesCopiesLate_AndAddsAFinalLineEnding_YetConverges()
    {
        await using var pair = await ServerPair.StartAsync(ServerKind.Dovecot, ServerKind.Courier, "quirk-courier-r");
        var accounts = await pair.NewAccountsAsync();
        await using (var primary = await accounts.PrimaryClientAsync())
        {
            await MailFactory.FillAsync(primary, "INBOX", 120);
            await MailFactory.FillAsync(primary, "Work", 30);
            await primary.AppendAsync("Work", Odd("no final line ending", "odd"));
        }
        var settings = accounts.Settings(StatePath);

        var first = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(3));
        Assert.That(first.ExitCode, Is.Zero, first.Output + first.Errors);
        Assert.That(first.Output, Does.Contain("stored altered by the replica"), "the message is kept in Courier's form, not refused as corrupt");
        var again = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(3));
        Assert.That(again.ExitCode, Is.Zero, again.Output + again.Errors);
        Assert.That(again.Output, Does.Contain("the replica matches the primary (2 folders; no changes)"), "nothing is uploaded twice");
        var verify = await ObserverProcess.RunAsync("verify", settings, _dir, TimeSpan.FromMinutes(3));
        Assert.That(verify.ExitCode, Is.Zero, verify.Output);
        Assert.That(verify.Output, Does.Contain("1 of them in the form the replica server stores them in"));
    }

    [TestCase("delete", "deleted on the replica")]
    [TestCase("rename", "renamed to")]
    public async Task CourierReplica_TakesSecondsPerFolderDeleteOrRename_NewMailIsNotHeldBackBehindABurstOfThem(string change, string logged)
    {
        await using var pair = await ServerPair.StartAsync(ServerKind.Dovecot, ServerKind.Courier, "quirk-courier-" + change);
        var accounts = await pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        var changed = Enumerable.Range(1, 5).Select(i => $"Old{i}").ToList();
        foreach (var folder in changed.Concat(Enumerable.Range(1, 7).Select(i => $"Keep{i}"))) await MailFactory.FillAsync(primary, folder, 1);
        var settings = accounts.Settings(StatePath);
        settings["Replication:FolderDeleteDelay"] = "00:00:00";
        var observer = ObserverProcess.Start("run", settings, _dir);
        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(60), observer: observer);
        if (change == "rename")
        {
            // Renames cannot be spread out live (a rename left for later would be a new folder to copy), so
            // this case meets them where they pile up: in the pass after a restart, which takes INBOX first.
            await observer.DisposeAsync();
            observer = null;
        }

        // Courier sleeps 2 s in every DELETE and RENAME: five of them in one go kept new mail waiting 10 s.
        foreach (var folder in changed)
        {
            if (change == "delete") await primary.DeleteAsync(folder);
            else await primary.RenameAsync(folder, folder + " renamed");
        }
        await primary.AppendAsync("INBOX", MailFactory.Message("arrived amid the folder changes"));
        await using var running = observer ?? ObserverProcess.Start("run", settings, _dir);
        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(60), observer: observer);
        observer = running;

        var log = ObserverLog.Parse(observer.Errors);
        var appended = log.FindIndex(l => l.Text.Contains("INBOX: 1 appended", StringComparison.Ordinal));
        var replayed = log.Select((l, i) => (l, i)).Where(x => x.l.Text.Contains(logged, StringComparison.Ordinal)).Select(x => x.i).ToList();
        Assert.That(replayed, Has.Count.EqualTo(changed.Count), observer.Errors);
        // The new mail went first, or after at most two of them (the watcher's events may come in two batches).
        Assert.That(appended, Is.GreaterThanOrEqualTo(0).And.LessThan(replayed[2]), "the new message waited for most of the folder changes\n" + observer.Errors);
    }

    [Test]
    public async Task CourierReplica_LiveBurstOfRenames_NewMailArrivingAmidThemGoesBetweenThem()
    {
        await using var pair = await ServerPair.StartAsync(ServerKind.Dovecot, ServerKind.Courier, "quirk-courier-live");
        var accounts = await pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        var renamed = Enumerable.Range(1, 6).Select(i => $"Old{i}").ToList();
        foreach (var folder in renamed.Append("Keep")) await MailFactory.FillAsync(primary, folder, 1);
        var settings = accounts.Settings(StatePath);
        await using var observer = ObserverProcess.Start("run", settings, _dir);
        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(60), observer: observer);

        // Courier sleeps 2 s in every RENAME, and renames cannot be left for later: new mail that comes in
        // once they have begun used to wait for all of them (the CI's Cyrus→Courier probe, 10.2 s).
        foreach (var folder in renamed) await primary.RenameAsync(folder, folder + " renamed");
        // Dovecot 2.3's NOTIFY now and then says nothing of renames (README): then the 30 s STATUS poll
        // finds them, so the wait spans two of its rounds. What is tested is the order that follows.
        await Eventually.HoldsAsync(() => Task.FromResult(observer.Errors.Contains("renamed to", StringComparison.Ordinal)), TimeSpan.FromSeconds(70),
            () => Task.FromResult("the first rename was never replayed\n" + observer.Errors), every: TimeSpan.FromMilliseconds(20));
        await primary.AppendAsync("INBOX", MailFactory.Message("arrived amid the renames"));
        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(60), observer: observer);

        var log = ObserverLog.Parse(observer.Errors);
        var appended = log.FindIndex(l => l.Text.Contains("INBOX: 1 appended", StringComparison.Ordinal));
        var replayed = log.Select((l, i) => (l, i)).Where(x => x.l.Text.Contains("renamed to", StringComparison.Ordinal)).Select(x => x.i).ToList();
        Assert.That(replayed, Has.Count.EqualTo(renamed.Count), observer.Errors);
        // The rename under way when the mail came, and at most one more, may go before it.
        Assert.That(appended, Is.GreaterThanOrEqualTo(0).And.LessThan(replayed[3]), "the new message waited for the renames\n" + observer.Errors);
    }

    /// <summary>
    /// Seen in a convergence run (seed 4242): a folder emptied into a child of a parent that was then renamed
    /// looks, by its messages, like that child renamed. Its name is the shorter, so it was renamed first, which
    /// made the new parent on Courier; the parent's own RENAME was then refused ("File exists"), and Courier
    /// listed the new parent as \Noselect, which Observer took for created: in trouble for ever.
    /// </summary>
    [Test]
    public async Task CourierReplica_AFolderEmptiedIntoTheChildOfARenamedParent_TheParentIsRenamedFirst_AndTheEmptiedFolderDeleted()
    {
        await using var pair = await ServerPair.StartAsync(ServerKind.Dovecot, ServerKind.Courier, "quirk-courier-evacuate");
        var accounts = await pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        var naming = await FolderNaming.ReadAsync(primary);
        var (emptied, parent, child) = (naming.ServerName("Box"), naming.ServerName("Long Parent"), naming.ServerName("Long Parent/Kid"));
        await MailFactory.FillAsync(primary, emptied, 1);
        await MailFactory.FillAsync(primary, parent, 2);
        await primary.CreateAsync(child);
        var settings = accounts.Settings(StatePath);
        settings["Replication:FolderDeleteDelay"] = "00:00:00";
        var first = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(2));
        Assert.That(first.ExitCode, Is.Zero, first.Output + first.Errors);

        await primary.SelectAsync(emptied);
        await primary.UidMoveAsync(UidSet.All, child);
        await primary.UnselectAsync();
        await primary.DeleteAsync(emptied);
        var renamedParent = naming.ServerName("Long Parent Renamed");
        await primary.RenameAsync(parent, renamedParent);
        var second = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(2));

        Assert.That(second.ExitCode, Is.Zero, second.Output + second.Errors);
        Assert.That(second.Errors, Does.Contain($"folder {parent} renamed to {renamedParent} on the replica"));
        Assert.That(second.Errors, Does.Not.Contain("could not be renamed"));
        Assert.That(second.Errors, Does.Contain($"folder {emptied} deleted on the replica"));
        var p = await accounts.PrimarySnapshotAsync();
        var r = await accounts.ReplicaSnapshotAsync();
        Assert.That(p.Differences(r), Is.Empty);
        Assert.That(r.DuplicatesAgainst(p), Is.Zero);
    }

    [Test]
    public async Task CourierReplica_ListsAParentItHasOnlyAsAName_ThePrimaryFolderOfThatNameIsCreatedThere()
    {
        await using var pair = await ServerPair.StartAsync(ServerKind.Dovecot, ServerKind.Courier, "quirk-courier-noselect");
        var accounts = await pair.NewAccountsAsync();
        await using (var replica = await accounts.ReplicaClientAsync())
        {
            var replicaNaming = await FolderNaming.ReadAsync(replica);
            await replica.CreateAsync(replicaNaming.ServerName("Top/Sub"));
            var listed = (await replica.ListAsync()).Single(m => m.Name == replicaNaming.ServerName("Top"));
            Assert.That(listed.IsSelectable, Is.False, "Courier's quirk, which this test is about: the parent is only a name");
        }
        await using var primary = await accounts.PrimaryClientAsync();
        var top = (await FolderNaming.ReadAsync(primary)).ServerName("Top");
        await MailFactory.FillAsync(primary, top, 2);

        var (code, output, errors) = await ObserverProcess.RunAsync("sync", accounts.Settings(StatePath), _dir, TimeSpan.FromMinutes(2));

        Assert.That(code, Is.Zero, output + errors);
        Assert.That(errors, Does.Contain($"folder {top} created on the replica"));
        var r = await accounts.ReplicaSnapshotAsync();
        Assert.That(r.Folders["Top"], Has.Count.EqualTo(2));
    }

    [Test]
    public async Task CourierPrimary_RenameGivesANewUidValidity_IsReplayedAsARename_NotAnUpload()
    {
        await using var pair = await ServerPair.StartAsync(ServerKind.Courier, ServerKind.Dovecot, "quirk-courier-p");
        var accounts = await pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX.Projects", 40);
        await MailFactory.FillAsync(primary, "INBOX.Projects.Old", 10);
        var settings = accounts.Settings(StatePath);
        Assert.That((await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(3))).ExitCode, Is.Zero);

        var before = await primary.StatusAsync("INBOX.Projects", StatusItems.Replication);
        await primary.RenameAsync("INBOX.Projects", "INBOX.Archive");
        var after = await primary.StatusAsync("INBOX.Archive", StatusItems.Replication);
        Assert.That(after.UidValidity, Is.Not.EqualTo(before.UidValidity), "Courier's quirk, which this test is about");
        await primary.AppendAsync("INBOX.Archive", MailFactory.Message("arrived right after the rename"));

        var (code, output, errors) = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(3));
        Assert.That(code, Is.Zero, output + errors);
        Assert.That(errors, Does.Contain("folder INBOX.Projects renamed to INBOX.Archive on the replica"));
        Assert.That(output, Does.Match(@"INBOX\.Archive\s+1 appended, 40 adopted"), "only the new message is uploaded; the rest is found again by MD5");
        Assert.That(output, Does.Match(@"INBOX\.Archive\.Old\s+10 adopted"));
        Assert.That(await accounts.DifferencesAsync(), Is.Empty);
    }

    [Test]
    public async Task CyrusReplica_HoldsAtMost100Keywords_EveryMessageIsCopied_TheRestReportedOnce()
    {
        await using var pair = await ServerPair.StartAsync(ServerKind.Dovecot, ServerKind.Cyrus, "quirk-cyrus-r");
        var accounts = await pair.NewAccountsAsync();
        await using (var primary = await accounts.PrimaryClientAsync())
        {
            await primary.CreateAsync("Tags");
            var tagged = Enumerable.Range(0, 110)
                .Select(i => MailFactory.Message($"tag {i}", new MessageFlags(["\\Seen", $"$tag{i:000}"])))
                .ToList();
            for (var i = 0; i < tagged.Count; i += 25) await primary.MultiAppendAsync("Tags", tagged.Skip(i).Take(25).ToList());
        }
        var settings = accounts.Settings(StatePath);

        var (code, output, errors) = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(3));
        Assert.That(code, Is.Zero, output + errors);
        Assert.That(output, Does.Match(@"Tags\s+110 appended.*without keywords the replica folder cannot hold"));
        Assert.That(Occurrences(errors, "cannot hold more keywords"), Is.EqualTo(1), "reported once per folder:\n" + errors);
        var replica = await accounts.ReplicaSnapshotAsync();
        Assert.That(replica.Folders["Tags"], Has.Count.EqualTo(110), "no message is left behind for its keywords");
        Assert.That(replica.Folders["Tags"].All(m => m.Flags.Contains("\\Seen")), Is.True, "system flags always go through");

        var verify = await ObserverProcess.RunAsync("verify", settings, _dir, TimeSpan.FromMinutes(3));
        Assert.That(verify.ExitCode, Is.EqualTo(1), "verify tells the truth: some keywords are missing");
        Assert.That(verify.Output, Does.Contain("with different flags"));
    }

    [Test]
    public async Task CyrusPrimary_FoldersMadeInOneSecondShareAUidValidity_OneDeletedAndOneRenamedInOnePass_AreNotMistakenForEachOther()
    {
        await using var pair = await ServerPair.StartAsync(ServerKind.Cyrus, ServerKind.Dovecot, "quirk-cyrus-p");
        var accounts = await pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        var naming = await FolderNaming.ReadAsync(primary);
        // The shorter name is looked at first, as a parent would be: it is the one deleted.
        string gone = "", renamed = "";
        for (var attempt = 0; attempt < 10; attempt++)
        {
            (gone, renamed) = (naming.ServerName($"Old{attempt}"), naming.ServerName($"Projects{attempt}"));
            await primary.CreateAsync(gone);
            await primary.CreateAsync(renamed);
            var (a, b) = ((await primary.StatusAsync(gone, StatusItems.UidValidity)).UidValidity, (await primary.StatusAsync(renamed, StatusItems.UidValidity)).UidValidity);
            if (a == b) break;
            (gone, renamed) = ("", "");
        }
        Assert.That(gone, Is.Not.Empty, "Cyrus gave two folders made one after the other the same UIDVALIDITY in none of 10 tries");
        await MailFactory.FillAsync(primary, gone, 1);
        await MailFactory.FillAsync(primary, renamed, 3);
        var settings = accounts.Settings(StatePath);
        settings["Replication:FolderDeleteDelay"] = "00:00:00";
        var first = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(2));
        Assert.That(first.ExitCode, Is.Zero, first.Output + first.Errors);

        await primary.DeleteAsync(gone);
        await primary.RenameAsync(renamed, renamed + " moved");
        var second = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(2));

        Assert.That(second.ExitCode, Is.Zero, second.Output + second.Errors);
        Assert.That(second.Output + second.Errors, Does.Not.Contain($"folder {gone} renamed"), "the deleted folder is not taken for the renamed one");
        Assert.That(second.Output + second.Errors, Does.Contain($"folder {renamed} renamed to {renamed} moved"), "the renamed one is still known for what it is");
        var p = await accounts.PrimarySnapshotAsync();
        var r = await accounts.ReplicaSnapshotAsync();
        Assert.That(p.Differences(r), Is.Empty);
        Assert.That(r.DuplicatesAgainst(p), Is.Zero);
    }

    private static int Occurrences(string text, string what) => (text.Length - text.Replace(what, "").Length) / what.Length;
}

using NUnit.Framework;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

/// <summary>Folder-level safety: problems stay with their folder, and deletions of whole folders are guarded too.</summary>
public class TreeSafetyTests
{
    [Test]
    public async Task TwoPrimaryFoldersThatWouldShareOneReplicaFolder_OneIsInTrouble_TheRestReplicate()
    {
        // Primary delimiter '/', replica '.': a '.' inside a primary name becomes '_', so "AC.DC" and "AC_DC" both become "AC_DC".
        await using var pair = await DovecotPair.StartAsync("collide", primaryDelimiter: '/', replicaDelimiter: '.');
        await using var h = await EngineHarness.CreateAsync(pair: pair);
        await using (var primary = await h.Accounts.PrimaryClientAsync())
        {
            await MailFactory.FillAsync(primary, "AC.DC", 3);
            await MailFactory.FillAsync(primary, "AC_DC", 2);
            await MailFactory.FillAsync(primary, "Fine", 4);
        }
        var pass = await h.SyncAsync();
        Assert.That(pass.Converged, Is.False);
        Assert.That(pass.TreeProblems.Single().Problem, Does.Contain("both become AC_DC on the replica"));
        await using var replica = await h.Accounts.ReplicaClientAsync();
        Assert.That((await replica.StatusAsync("Fine", StatusItems.Messages)).Messages, Is.EqualTo(4));
        Assert.That((await replica.StatusAsync("AC_DC", StatusItems.Messages)).Messages, Is.EqualTo(3), "the first folder keeps the name; nothing is mixed into it");
        var second = await h.SyncAsync();
        Assert.That(second.Folders.Single(f => f.Folder == "AC.DC").Outcome, Is.EqualTo(FolderOutcome.Unchanged), "the two never fight over the folder");
        Assert.That((await replica.StatusAsync("AC_DC", StatusItems.Messages)).Messages, Is.EqualTo(3));
    }

    [Test]
    public async Task FoldersDeletedOnThePrimary_AreDeletedOnTheReplica_WhateverTheirSize()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "Big", 30);
        await MailFactory.FillAsync(primary, "Small", 3);
        await MailFactory.FillAsync(primary, "Stays", 3);
        await h.SyncAsync();
        await primary.DeleteAsync("Big");
        await primary.DeleteAsync("Small");

        var pass = await h.SyncAsync();
        Assert.That(pass.Converged, Is.True);
        Assert.That(pass.FoldersDeleted, Is.EqualTo(2));
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty);
    }

    [Test]
    public async Task RenameWhoseNewNameAlreadyExistsOnTheReplica_LeavesNoOrphanBehind()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using var primary = await h.Accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "Old", 4);
        await MailFactory.FillAsync(primary, "Other", 2);
        await h.SyncAsync();
        await primary.RenameAsync("Old", "New");
        // As left by an earlier pass whose CREATE was carried out but whose answer was lost in a disconnect.
        await using (var replica = await h.Accounts.ReplicaClientAsync()) await replica.CreateAsync("New");

        var pass = await h.SyncAsync();
        Assert.That(pass.Converged, Is.True);
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty, "the replica's Old is deleted, not left behind unmapped");
    }

    [Test]
    public async Task FolderMissingFromOneList_ButStillOnThePrimary_IsNotDeleted()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using (var primary = await h.Accounts.PrimaryClientAsync())
        {
            await MailFactory.FillAsync(primary, "Precious", 30);
            await MailFactory.FillAsync(primary, "Other", 3);
        }
        await h.SyncAsync();
        h.Sessions.Primary.HiddenFromList.Add("Precious");

        await h.SyncAsync();
        Assert.That(h.Log.AllText, Does.Contain("folder Precious was missing from the primary's LIST but answers STATUS; not deleting it"));
        Assert.That((await h.Accounts.ReplicaSnapshotAsync()).Folders["Precious"], Has.Count.EqualTo(30));

        h.Sessions.Primary.HiddenFromList.Clear();
        Assert.That((await h.SyncAsync()).Converged, Is.True);
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty);
    }

    [Test]
    public async Task VerifyRepair_LeavesTheReplicaCopyOfAnExcludedFolderAlone()
    {
        await using var h = await EngineHarness.CreateAsync(o => o.Folders.Exclude = ["Private*"]);
        await using (var primary = await h.Accounts.PrimaryClientAsync())
        {
            await MailFactory.FillAsync(primary, "INBOX", 3);
            await MailFactory.FillAsync(primary, "Private", 2);
        }
        await using (var replica = await h.Accounts.ReplicaClientAsync())
            await MailFactory.FillAsync(replica, "Private", 1);
        await h.SyncAsync();
        var (report, after) = await h.Engine.VerifyAsync(repair: true, force: true, CancellationToken.None);
        Assert.That(report.ReplicaOnlyFolders, Is.Empty);
        Assert.That(report.Folders.Select(f => f.Folder), Is.EqualTo(new[] { "INBOX" }));
        Assert.That((await h.Accounts.ReplicaSnapshotAsync()).Folders["Private"], Has.Count.EqualTo(1));
    }
}

using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

/// <summary>
/// A rename whose new name lies under a parent that is new too waits until the other renames are done
/// (a parent renamed in the same pass may carry it there; ServerQuirkTests has the Courier case that needs
/// it). Every folder moved under a parent made for it takes that waiting path: all must still be renamed
/// on the replica in one pass, not deleted and uploaded again.
/// </summary>
public class RenamesIntoNewParentTests
{
    [Test]
    public async Task SeveralFoldersMovedUnderANewParent_WithoutHints_AreAllRenamedOnTheReplica_NothingUploadedAgain()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using var primary = await h.Accounts.PrimaryClientAsync();
        var naming = await FolderNaming.ReadAsync(primary);
        var moved = new[] { "Alpha", "Beta", "Gamma" };
        foreach (var folder in moved) await MailFactory.FillAsync(primary, naming.ServerName(folder), 3);
        await MailFactory.FillAsync(primary, naming.ServerName("Kept"), 1);
        Assert.That((await h.SyncAsync()).Converged, Is.True);
        var (renamesBefore, appendedBefore) = (h.Replica.Renames, h.Replica.Appended);

        await primary.CreateAsync(naming.ServerName("Shelf"));
        foreach (var folder in moved) await primary.RenameAsync(naming.ServerName(folder), naming.ServerName("Shelf/" + folder));
        var pass = await h.SyncAsync();

        Assert.That(pass.Converged, Is.True, pass.Summary());
        Assert.That(pass.FoldersRenamed, Is.EqualTo(3), h.Log.AllText);
        foreach (var folder in moved)
            Assert.That(h.Log.AllText, Does.Contain($"folder {naming.ServerName(folder)} renamed to {naming.ServerName("Shelf/" + folder)}"));
        Assert.That(h.Replica.Renames - renamesBefore, Is.EqualTo(3));
        Assert.That(h.Replica.Appended - appendedBefore, Is.Zero, "every message stayed where the rename took it");
        Assert.That(await h.Accounts.DifferencesAsync(), Is.Empty);
    }
}

/// <summary>
/// Dovecot's Maildir++ layout keeps listing a deleted parent whose children remain, as if it were a folder,
/// yet cannot open it. A primary folder of that name must be created on the replica, not put in trouble for ever.
/// </summary>
public class ReplicaPhantomFolderTests
{
    [Test]
    public async Task AReplicaFolderListedButDeleted_ThePrimaryFolderOfThatNameIsCreatedThere()
    {
        // Maildir++ is the layout with '.' between levels; the shared pair's replica uses '/' and the fs layout.
        await using var pair = await DovecotPair.StartAsync("phantom", replicaDelimiter: '.');
        await using var h = await EngineHarness.CreateAsync(pair: pair);
        string phantom;
        await using (var replica = await h.Accounts.ReplicaClientAsync())
        {
            var naming = await FolderNaming.ReadAsync(replica);
            phantom = naming.ServerName("Parent");
            await replica.CreateAsync(phantom);
            await replica.CreateAsync(naming.ServerName("Parent/Child"));
            await replica.DeleteAsync(phantom);
            var listed = (await replica.ListAsync()).SingleOrDefault(m => m.Name == phantom);
            Assert.That(listed?.IsSelectable, Is.True, "Dovecot's quirk, which this test is about: the deleted parent is still listed as a folder");
            Assert.That(async () => await replica.SelectAsync(phantom), Throws.Exception, "and cannot be opened");
        }
        await using var primary = await h.Accounts.PrimaryClientAsync();
        var top = (await FolderNaming.ReadAsync(primary)).ServerName("Parent");
        await MailFactory.FillAsync(primary, top, 2);

        var pass = await h.SyncAsync();

        Assert.That(pass.Converged, Is.True, pass.Summary());
        Assert.That(h.Log.AllText, Does.Contain($"folder {top} created on the replica"));
        var r = await h.Accounts.ReplicaSnapshotAsync();
        Assert.That(r.Folders["Parent"], Has.Count.EqualTo(2));
    }
}

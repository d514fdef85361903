using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

/// <summary>
/// A rename whose new name lies under a parent that is new too waits until the other renames are done
/// (a parent renamed in the same pass may carry it there). Folders moved under a parent made for them
/// must still all be renamed on the replica in one pass, not deleted and uploaded again.
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

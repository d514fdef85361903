using NUnit.Framework;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>Fault 6: a primary folder is deleted and recreated with the same messages while observer runs.</summary>
public class UidValidityLiveTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-uidv-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task FolderRecreatedOnThePrimary_IsRemappedByMd5_NoUploadNoLoss()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "Box", 40);
        await using var observer = ObserverProcess.Start("run", FaultSettings.For(accounts, Path.Combine(_dir, "state.db")), _dir);
        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(30), observer: observer);
        var before = (await accounts.ReplicaSnapshotAsync()).Folders["Box"].Select(m => (m.Uid, m.Md5)).ToHashSet();

        await primary.ExamineAsync("Box");
        var saved = new List<AppendMessage>();
        await foreach (var m in primary.UidFetchStreamAsync(UidSet.All, new FetchRequest(FetchItems.Flags | FetchItems.InternalDate | FetchItems.Body)))
            using (m) saved.Add(new AppendMessage(ImapLiteral.FromBytes(m.Body!.ToArray()), m.Flags!.WithoutRecent(), m.InternalDate));
        var validity = (await primary.StatusAsync("Box", StatusItems.UidValidity)).UidValidity;
        await primary.UnselectAsync();
        await primary.DeleteAsync("Box");
        await Task.Delay(1100);
        await primary.CreateAsync("Box");
        await primary.MultiAppendAsync("Box", saved);
        await primary.AppendAsync("Box", MailFactory.Message("new after the recreation"));
        Assert.That((await primary.StatusAsync("Box", StatusItems.UidValidity)).UidValidity, Is.Not.EqualTo(validity));

        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(60), observer: observer);
        var after = (await accounts.ReplicaSnapshotAsync()).Folders["Box"].Select(m => (m.Uid, m.Md5)).ToHashSet();
        Assert.That(after.IsSupersetOf(before), Is.True, "the 40 copies kept their replica UIDs: re-mapped, not uploaded again");
        Assert.That(after, Has.Count.EqualTo(41));
        Assert.That(observer.Errors, Does.Contain("UIDVALIDITY changed on the primary"));
    }
}

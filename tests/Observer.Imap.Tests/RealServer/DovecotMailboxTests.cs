using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Imap.Tests;

public class DovecotMailboxTests
{
    private static DovecotServer Server => DovecotFixture.Server;

    private static async Task<ImapClient> Login() => await Server.ConnectAsync(await Server.NewAccountAsync());

    [Test]
    public async Task Delimiter_IsLearned()
    {
        await using var client = await Login();
        Assert.That(await client.GetDelimiterAsync(), Is.EqualTo('.'));
    }

    [Test]
    public async Task CreateListRenameDelete_NestedFolders()
    {
        await using var client = await Login();
        await client.CreateAsync("Projects.Alpha");
        await client.CreateAsync("Projects.Beta");
        var names = (await client.ListAsync()).Select(m => m.Name).ToList();
        Assert.That(names, Is.SupersetOf(new[] { "INBOX", "Projects.Alpha", "Projects.Beta" }));
        await client.RenameAsync("Projects.Alpha", "Projects.Gamma");
        await client.DeleteAsync("Projects.Beta");
        names = (await client.ListAsync()).Select(m => m.Name).ToList();
        Assert.That(names, Does.Contain("Projects.Gamma").And.Not.Contain("Projects.Alpha").And.Not.Contain("Projects.Beta"));
    }

    [Test]
    public async Task Create_Existing_IsTypedAlreadyExists()
    {
        await using var client = await Login();
        await client.CreateAsync("Twice");
        var ex = Assert.ThrowsAsync<ImapCommandException>(() => client.CreateAsync("Twice"));
        Assert.That(ex!.Code!.Kind, Is.EqualTo(ResponseCodeKind.AlreadyExists));
    }

    [Test]
    public async Task NonAsciiName_RoundTripsThroughModifiedUtf7()
    {
        await using var client = await Login();
        const string name = "Caf\u00e9 & Cr\u00e8me.\u65e5\u672c\u8a9e \U0001F4E7";
        await client.CreateAsync(name);
        var listed = await client.ListAsync();
        Assert.That(listed.Select(m => m.Name), Does.Contain(name));
        var selected = await client.SelectAsync(name);
        Assert.That(selected.Name, Is.EqualTo(name));
        var status = await client.StatusAsync(name, StatusItems.Messages);
        Assert.That(status.Messages, Is.Zero);
    }

    [Test]
    public async Task SubscribeUnsubscribe_ShowInListAndLsub()
    {
        await using var client = await Login();
        await client.CreateAsync("News");
        await client.SubscribeAsync("News");
        Assert.That((await client.ListAsync()).Single(m => m.Name == "News").IsSubscribed, Is.True);
        Assert.That((await client.ListSubscribedAsync()).Select(m => m.Name), Does.Contain("News"));
        await client.UnsubscribeAsync("News");
        Assert.That((await client.ListAsync()).Single(m => m.Name == "News").IsSubscribed, Is.False);
    }

    [Test]
    public async Task Status_ReportsReplicationItems()
    {
        await using var client = await Login();
        await client.EnableAsync(["CONDSTORE"]);
        await client.AppendAsync("INBOX", new AppendMessage(Messages.Literal("s")));
        var status = await client.StatusAsync("INBOX", StatusItems.Replication);
        Assert.That(status.Messages, Is.EqualTo(1));
        Assert.That(status.UidNext, Is.EqualTo(2));
        Assert.That(status.UidValidity, Is.Not.Null);
        Assert.That(status.HighestModSeq, Is.GreaterThan(0));
    }

    [Test]
    public async Task ListWithStatus_UsesListStatus()
    {
        await using var client = await Login();
        await client.CreateAsync("A");
        await client.AppendAsync("A", new AppendMessage(Messages.Literal("x")));
        var all = await client.ListWithStatusAsync(StatusItems.Replication);
        var a = all.Single(m => m.Mailbox.Name == "A");
        Assert.That((a.Status!.Messages, a.Status.UidNext), Is.EqualTo(((uint?)1, (uint?)2)));
    }

    [Test]
    public async Task SelectExamine_CondStore_ReportsState()
    {
        await using var client = await Login();
        await client.AppendAsync("INBOX", new AppendMessage(Messages.Literal("1"), new MessageFlags(["kw1"])));
        var selected = await client.SelectAsync("INBOX", new SelectOptions { CondStore = true });
        Assert.That((selected.Exists, selected.ReadOnly, selected.UidNext), Is.EqualTo((1u, false, (uint?)2)));
        Assert.That(selected.HighestModSeq, Is.GreaterThan(0));
        Assert.That(selected.PermanentFlags.Contains("kw1"), Is.True);
        Assert.That(selected.AllowsNewKeywords, Is.True);
        var examined = await client.ExamineAsync("INBOX");
        Assert.That(examined.ReadOnly, Is.True);
    }

    [Test]
    public async Task SelectQResync_ReturnsVanishedAndChangedSinceModSeq()
    {
        await using var client = await Login();
        await client.EnableAsync(["QRESYNC"]);
        for (var i = 0; i < 3; i++) await client.AppendAsync("INBOX", new AppendMessage(Messages.Literal("q" + i)));
        var first = await client.SelectAsync("INBOX");
        await client.UidStoreAsync(UidSet.Single(2), StoreMode.Add, new MessageFlags(["\\Flagged"]));
        await client.UidStoreAsync(UidSet.Single(3), StoreMode.Add, new MessageFlags(["\\Deleted"]));
        await client.UidExpungeAsync(UidSet.Single(3));
        await client.UnselectAsync();
        var again = await client.SelectAsync("INBOX", new SelectOptions { QResync = new QResyncParameters(first.UidValidity, first.HighestModSeq!.Value, UidSet.Range(1, 3)) });
        Assert.That(again.Vanished.Expand(), Is.EqualTo(new uint[] { 3 }));
        Assert.That(again.Changed.Select(c => (c.Uid, c.Flags!.Contains("\\Flagged"))), Is.EqualTo(new[] { ((uint?)2, true) }));
    }

    [Test]
    public async Task CloseAndUnselect_LeaveTheMailbox_OnlyCloseExpunges()
    {
        await using var client = await Login();
        await client.AppendAsync("INBOX", new AppendMessage(Messages.Literal("d1"), new MessageFlags(["\\Deleted"])));
        await client.SelectAsync("INBOX");
        await client.UnselectAsync();
        Assert.That(client.Selected, Is.Null);
        Assert.That((await client.StatusAsync("INBOX", StatusItems.Messages)).Messages, Is.EqualTo(1));
        await client.SelectAsync("INBOX");
        await client.CloseAsync();
        Assert.That((await client.StatusAsync("INBOX", StatusItems.Messages)).Messages, Is.Zero);
    }
}

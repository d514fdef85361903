using NUnit.Framework;
using Observer.Mail;

namespace Observer.MailKit.Tests.Contract;

/// <summary>Folders by their full names: create (parents and all), rename with children, subscribe, status, delete.</summary>
[TestFixtureSource(typeof(ContractTestBase), nameof(Cases))]
public class FolderContractTests(string implementation, string server) : ContractTestBase(implementation, server)
{
    [Test]
    public async Task ANestedFolder_IsCreatedByItsFullName_AndRenamedWithItsChildren()
    {
        var session = await SessionAsync();
        await session.CreateAsync(Name(session, "Parent/Child"), None);
        var names = (await session.ListAsync(false, None)).Where(m => m.Mailbox.IsSelectable).Select(m => m.Mailbox.Name).ToList();
        Assert.That(names, Does.Contain(Name(session, "Parent/Child")));

        await session.RenameAsync(Name(session, "Parent"), Name(session, "Moved/Deeper"), None);
        var after = (await session.ListAsync(false, None)).Select(m => m.Mailbox.Name).ToList();
        Assert.That(after, Does.Contain(Name(session, "Moved/Deeper/Child")));
        Assert.That(after, Has.None.StartsWith(Name(session, "Parent")));
    }

    [Test]
    public async Task Subscriptions_AreSetAndListed()
    {
        var session = await SessionAsync();
        var sub = Name(session, "Sub");
        await session.CreateAsync(sub, None);
        await session.SetSubscribedAsync(sub, true, None);
        Assert.That((await session.ListAsync(false, None)).Single(m => m.Mailbox.Name == sub).Mailbox.IsSubscribed, Is.True);
        await session.SetSubscribedAsync(sub, false, None);
        Assert.That((await session.ListAsync(true, None)).Single(m => m.Mailbox.Name == sub).Mailbox.IsSubscribed, Is.False);
    }

    [Test]
    public async Task Status_CountsMessages_AndAMissingFolderIsARefusal()
    {
        var session = await SessionAsync();
        var counted = Name(session, "Counted");
        await using (var user = await UserAsync())
            await Observer.TestSupport.MailFactory.FillAsync(user, counted, 3);
        var status = await session.StatusAsync(counted, None);
        Assert.That(status.Messages, Is.EqualTo(3u));
        Assert.That(status.UidNext, Is.EqualTo(4u));
        Assert.That(status.UidValidity, Is.Not.Null);
        var listed = (await session.ListAsync(true, None)).Single(m => m.Mailbox.Name == counted);
        if (session.Features.ListStatus) Assert.That(listed.Status?.Messages, Is.EqualTo(3u), "LIST-STATUS gives each folder's status");
        else if (listed.Status is not null) Assert.That(listed.Status.Messages, Is.EqualTo(3u));

        var error = Assert.ThrowsAsync<ImapCommandException>(() => session.StatusAsync(Name(session, "Nowhere"), None));
        Assert.That(error!.Condition, Is.EqualTo(ResponseCondition.No));
        Assert.That(session.IsConnected, Is.True);
    }

    [Test]
    public async Task Delete_RemovesTheFolder_AndRenamingOntoAnExistingNameIsARefusal()
    {
        var session = await SessionAsync();
        var (one, two) = (Name(session, "One"), Name(session, "Two"));
        await session.CreateAsync(one, None);
        await session.CreateAsync(two, None);
        var error = Assert.ThrowsAsync<ImapCommandException>(() => session.RenameAsync(one, two, None));
        Assert.That(error!.Condition, Is.EqualTo(ResponseCondition.No));

        await session.DeleteAsync(one, None);
        Assert.That((await session.ListAsync(false, None)).Select(m => m.Mailbox.Name), Does.Not.Contain(one).And.Contain(two));
        Assert.ThrowsAsync<ImapCommandException>(() => session.DeleteAsync(one, None));
    }
}

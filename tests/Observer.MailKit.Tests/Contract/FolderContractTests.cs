using NUnit.Framework;
using Observer.Imap;
using Observer.Replication;

namespace Observer.MailKit.Tests.Contract;

/// <summary>Folders by their full names: create (parents and all), rename with children, subscribe, status, delete.</summary>
[TestFixtureSource(typeof(ContractTestBase), nameof(Cases))]
public class FolderContractTests(string implementation, ServerRole role) : ContractTestBase(implementation, role)
{
    [Test]
    public async Task ANestedFolder_IsCreatedByItsFullName_AndRenamedWithItsChildren()
    {
        var session = await SessionAsync();
        var d = session.Delimiter ?? throw new AssertionException("no delimiter");
        await session.CreateAsync($"Parent{d}Child", None);
        var names = (await session.ListAsync(false, None)).Where(m => m.Mailbox.IsSelectable).Select(m => m.Mailbox.Name).ToList();
        Assert.That(names, Does.Contain($"Parent{d}Child"));

        await session.RenameAsync("Parent", $"Moved{d}Deeper", None);
        var after = (await session.ListAsync(false, None)).Select(m => m.Mailbox.Name).ToList();
        Assert.That(after, Does.Contain($"Moved{d}Deeper{d}Child"));
        Assert.That(after, Has.None.StartsWith("Parent"));
    }

    [Test]
    public async Task Subscriptions_AreSetAndListed()
    {
        var session = await SessionAsync();
        await session.CreateAsync("Sub", None);
        await session.SetSubscribedAsync("Sub", true, None);
        Assert.That((await session.ListAsync(false, None)).Single(m => m.Mailbox.Name == "Sub").Mailbox.IsSubscribed, Is.True);
        await session.SetSubscribedAsync("Sub", false, None);
        Assert.That((await session.ListAsync(true, None)).Single(m => m.Mailbox.Name == "Sub").Mailbox.IsSubscribed, Is.False);
    }

    [Test]
    public async Task Status_CountsMessages_AndAMissingFolderIsARefusal()
    {
        await using (var user = await UserAsync())
            await Observer.TestSupport.MailFactory.FillAsync(user, "Counted", 3);
        var session = await SessionAsync();
        var status = await session.StatusAsync("Counted", None);
        Assert.That(status.Messages, Is.EqualTo(3u));
        Assert.That(status.UidNext, Is.EqualTo(4u));
        Assert.That(status.UidValidity, Is.Not.Null);
        var listed = (await session.ListAsync(true, None)).Single(m => m.Mailbox.Name == "Counted");
        if (session.Features.ListStatus) Assert.That(listed.Status?.Messages, Is.EqualTo(3u), "LIST-STATUS gives each folder's status");
        else if (listed.Status is not null) Assert.That(listed.Status.Messages, Is.EqualTo(3u));

        var error = Assert.ThrowsAsync<ImapCommandException>(() => session.StatusAsync("Nowhere", None));
        Assert.That(error!.Condition, Is.EqualTo(ResponseCondition.No));
        Assert.That(session.IsConnected, Is.True);
    }

    [Test]
    public async Task Delete_RemovesTheFolder_AndRenamingOntoAnExistingNameIsARefusal()
    {
        var session = await SessionAsync();
        await session.CreateAsync("One", None);
        await session.CreateAsync("Two", None);
        var error = Assert.ThrowsAsync<ImapCommandException>(() => session.RenameAsync("One", "Two", None));
        Assert.That(error!.Condition, Is.EqualTo(ResponseCondition.No));

        await session.DeleteAsync("One", None);
        Assert.That((await session.ListAsync(false, None)).Select(m => m.Mailbox.Name), Does.Not.Contain("One").And.Contain("Two"));
        Assert.ThrowsAsync<ImapCommandException>(() => session.DeleteAsync("One", None));
    }
}

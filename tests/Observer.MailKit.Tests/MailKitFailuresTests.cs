using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;
using Observer.Mail;
using Observer.Replication;
using Observer.TestSupport;

namespace Observer.MailKit.Tests;

/// <summary>
/// MailKit's exceptions become Observer's one failure taxonomy, with the server's response code that
/// MailKit itself drops (read back from the completion line), against a real Dovecot.
/// </summary>
[NonParallelizable]
public class MailKitFailuresTests
{
    private static DovecotPair? _pair;

    [OneTimeSetUp]
    public async Task StartAsync() => _pair = await DovecotPair.StartAsync("mailkit-failures");

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_pair is not null) await _pair.DisposeAsync();
    }

    private static async Task<MailKitConnection> ConnectAsync() => await ConnectAsync(await _pair!.NewAccountsAsync());

    private static async Task<MailKitConnection> ConnectAsync(PairAccounts accounts)
    {
        var endpoint = new EndpointOptions
        {
            Host = _pair!.Primary.Host,
            Port = _pair.Primary.Port,
            Username = accounts.Primary.User,
            Password = accounts.Primary.Password,
            Security = ImapSecurity.None,
        };
        return await MailKitConnector.ConnectAsync(endpoint, "primary", "test", NullLogger.Instance, CancellationToken.None);
    }

    [Test]
    public async Task ARefusal_KeepsTheServersResponseCodeAndWords()
    {
        using var connection = await ConnectAsync();
        var client = connection.Client;
        var root = client.GetFolder(client.PersonalNamespaces[0]);
        var a = await root.CreateAsync("A", isMessageFolder: true);
        await root.CreateAsync("B", isMessageFolder: true);

        var error = Assert.ThrowsAsync<Observer.Mail.ImapCommandException>(() =>
            MailKitFailures.RunAsync("RENAME", "primary", connection.Tap, () => a!.RenameAsync(root, "B"), CancellationToken.None));
        Assert.That(error!.Condition, Is.EqualTo(ResponseCondition.No));
        Assert.That(error.Code?.Kind, Is.EqualTo(ResponseCodeKind.AlreadyExists), error.Message);
        Assert.That(error.ServerText, Does.Contain("exists"));
        Assert.That(error.Message, Does.StartWith("RENAME failed: NO [ALREADYEXISTS]"));
        Assert.That(client.IsConnected, Is.True, "a refusal leaves the connection usable");
    }

    [Test]
    public async Task HeadersOfAMessageExpungedByAnotherClient_WhichMailKitCannotRead_AreALostConnectionNamingTheRace()
    {
        var accounts = await _pair!.NewAccountsAsync();
        await using (var user = await accounts.PrimaryClientAsync())
            await user.AppendAsync("INBOX", new AppendMessage(ImapLiteral.FromBytes("Message-ID: <gone@test>\r\n\r\nx\r\n"u8.ToArray()), null, null));
        using var connection = await ConnectAsync(accounts);
        var inbox = connection.Client.Inbox;
        await inbox.OpenAsync(global::MailKit.FolderAccess.ReadOnly);
        await using (var user = await accounts.PrimaryClientAsync())
        {
            await user.SelectAsync("INBOX");
            await user.UidStoreAsync(UidSet.Single(1), StoreMode.Add, new MessageFlags([MessageFlags.Deleted]));
            await user.ExpungeAsync();
        }
        // Dovecot answers BODY[HEADER.FIELDS (MESSAGE-ID)] NIL, as RFC 3501 allows; MailKit throws and disconnects.
        var request = new global::MailKit.FetchRequest(global::MailKit.MessageSummaryItems.UniqueId) { Headers = new global::MailKit.HeaderSet(["Message-ID"]) };
        var error = Assert.ThrowsAsync<ImapConnectionException>(() =>
            MailKitFailures.RunAsync("FETCH", "primary", connection.Tap, () => inbox.FetchAsync([new global::MailKit.UniqueId(1)], request), CancellationToken.None));
        Assert.That(error!.Message, Does.StartWith("a message was expunged on the primary while FETCH read it"));
    }

    [Test]
    public async Task AMissingFolder_IsARefusalNamingIt_NotACrash()
    {
        using var connection = await ConnectAsync();
        var error = Assert.ThrowsAsync<Observer.Mail.ImapCommandException>(() =>
            MailKitFailures.RunAsync("STATUS", "primary", connection.Tap, () => connection.Client.GetFolderAsync("Nowhere"), CancellationToken.None));
        Assert.That(error!.Code?.Kind, Is.EqualTo(ResponseCodeKind.NonExistent));
        Assert.That(error.Message, Does.Contain("Nowhere"));
    }

    [Test]
    public async Task ABrokenConnection_IsAConnectionFailure_ToReconnectFrom()
    {
        using var connection = await ConnectAsync();
        await connection.Client.DisconnectAsync(quit: false);
        var error = Assert.ThrowsAsync<ImapConnectionException>(() =>
            MailKitFailures.RunAsync("NOOP", "primary", connection.Tap, () => connection.Client.NoOpAsync(), CancellationToken.None));
        Assert.That(error!.Message, Does.Contain("primary").And.Contain("NOOP"));
    }

    [TestCase("A00000007 NO [ALREADYEXISTS] Mailbox already exists", ResponseCodeKind.AlreadyExists, "Mailbox already exists")]
    [TestCase("A1 NO [OVERQUOTA] Quota exceeded (mailbox for user is full)", ResponseCodeKind.OverQuota, "Quota exceeded (mailbox for user is full)")]
    [TestCase("A1 NO [SERVERBUG] Internal error occurred.", ResponseCodeKind.ServerBug, "Internal error occurred.")]
    [TestCase("A1 NO [X-SOMETHING 42] Odd", ResponseCodeKind.Other, "Odd")]
    [TestCase("A1 NO Plain words", null, "Plain words")]
    public void CompletionLines_AreReadForTheirCodeAndText(string line, ResponseCodeKind? kind, string text)
    {
        var (code, words) = TaggedReply.Parse(line);
        Assert.That(code?.Kind, Is.EqualTo(kind));
        Assert.That(words, Is.EqualTo(text));
    }
}

using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Imap.Tests;

public class DovecotPushTests
{
    private static DovecotServer Server => DovecotFixture.Server;

    private static async Task<T> NextEvent<T>(ImapClient client, Func<T, bool> match, TimeSpan within) where T : UntaggedResponse
    {
        using var timeout = new CancellationTokenSource(within);
        await foreach (var e in client.Events.ReadAllAsync(timeout.Token))
            if (e is T t && match(t)) return t;
        throw new InvalidOperationException("event channel ended");
    }

    [Test]
    public async Task Idle_SeesAnAppendFromAnotherConnection()
    {
        var account = await Server.NewAccountAsync();
        await using var watcher = await Server.ConnectAsync(account);
        await using var writer = await Server.ConnectAsync(account);
        await watcher.SelectAsync("INBOX");
        using var done = new CancellationTokenSource();
        var idle = watcher.IdleAsync(done.Token);
        await Task.Delay(200);
        await writer.AppendAsync("INBOX", new AppendMessage(Messages.Literal("idle")));
        var exists = await NextEvent<ExistsResponse>(watcher, e => e.Count == 1, TimeSpan.FromSeconds(10));
        done.Cancel();
        await idle;
        Assert.That(exists.Count, Is.EqualTo(1));
        await watcher.NoopAsync();
    }

    [Test]
    public async Task Idle_WithQResync_ReportsFlagChangesWithUidAndExpungesAsVanished()
    {
        var account = await Server.NewAccountAsync();
        await using var watcher = await Server.ConnectAsync(account);
        await using var writer = await Server.ConnectAsync(account);
        await writer.AppendAsync("INBOX", new AppendMessage(Messages.Literal("v")));
        await watcher.EnableAsync(["QRESYNC"]);
        await watcher.SelectAsync("INBOX");
        using var done = new CancellationTokenSource();
        var idle = watcher.IdleAsync(done.Token);
        await Task.Delay(200);
        await writer.SelectAsync("INBOX");
        await writer.UidStoreAsync(UidSet.Single(1), StoreMode.Add, new MessageFlags(["\\Flagged"]));
        var fetch = await NextEvent<FetchResponse>(watcher, f => f.Data.Uid == 1, TimeSpan.FromSeconds(10));
        Assert.That(fetch.Data.Flags!.Contains("\\Flagged"), Is.True);
        await writer.UidStoreAsync(UidSet.Single(1), StoreMode.Add, new MessageFlags(["\\Deleted"]));
        await writer.UidExpungeAsync(UidSet.Single(1));
        var vanished = await NextEvent<VanishedResponse>(watcher, v => !v.Earlier, TimeSpan.FromSeconds(10));
        Assert.That(vanished.Uids.Expand(), Is.EqualTo(new uint[] { 1 }));
        done.Cancel();
        await idle;
    }

    [Test]
    public async Task Notify_SeesChangesInAMailboxThatIsNotSelected()
    {
        var account = await Server.NewAccountAsync();
        await using var watcher = await Server.ConnectAsync(account);
        await using var writer = await Server.ConnectAsync(account);
        await writer.CreateAsync("Elsewhere");
        await watcher.EnableAsync(["CONDSTORE"]);
        await watcher.NotifySetAsync(new NotifyRequest([
            new NotifyFilter(NotifyMailboxes.Personal, [NotifyEvent.MessageNew, NotifyEvent.MessageExpunge, NotifyEvent.FlagChange, NotifyEvent.MailboxName, NotifyEvent.SubscriptionChange]),
        ]));
        await writer.AppendAsync("Elsewhere", new AppendMessage(Messages.Literal("notify")));
        var status = await NextEvent<MailboxStatusResponse>(watcher, s => s.Mailbox == "Elsewhere", TimeSpan.FromSeconds(10));
        Assert.That(status.Status.Messages, Is.EqualTo(1));

        await writer.RenameAsync("Elsewhere", "Moved");
        var renamed = await NextEvent<ListResponse>(watcher, l => l.Mailbox.Name == "Moved", TimeSpan.FromSeconds(10));
        Assert.That(renamed.Mailbox.OldName, Is.EqualTo("Elsewhere"));

        await watcher.NotifyNoneAsync();
        await watcher.NoopAsync();
    }
}

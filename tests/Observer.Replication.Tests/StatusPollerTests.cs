using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

/// <summary>The STATUS poller, the backstop of every watch mode, against a real Dovecot.</summary>
public class StatusPollerTests
{
    [Test]
    public async Task FolderDeletedBetweenListAndStatus_IsSkipped_AndTheOtherFoldersAreStillReported()
    {
        await using var h = await EngineHarness.CreateAsync();
        await using (var primary = await h.Accounts.PrimaryClientAsync())
        {
            await MailFactory.FillAsync(primary, "Busy", 2);
            await MailFactory.FillAsync(primary, "Quiet", 1);
        }
        var poller = new StatusPoller(h.Sessions, TimeSpan.FromSeconds(5), new FolderFilter([], '.'), new ReconnectOptions(), NullLogger.Instance, TimeProvider.System);
        var signals = Channel.CreateUnbounded<ChangeSignal>();
        await using var session = await h.Sessions.ConnectAsync(ServerRole.Primary, "poll", CancellationToken.None);
        await poller.PollOnceAsync(session, signals.Writer, CancellationToken.None);

        await using (var primary = await h.Accounts.PrimaryClientAsync()) await MailFactory.FillAsync(primary, "Busy", 1, "late");
        // The real server answers NO to STATUS for it, as for a folder another client has just deleted.
        h.Sessions.Primary.ListedButGone.Add("Deleted Meanwhile");
        await poller.PollOnceAsync(session, signals.Writer, CancellationToken.None);

        var changed = new List<string>();
        while (signals.Reader.TryRead(out var signal)) if (signal is FolderChanged f) changed.Add(f.Folder);
        Assert.That(changed, Is.EqualTo(new[] { "Busy" }), "the poll went on past the vanished folder and reported the one that changed");
    }
}

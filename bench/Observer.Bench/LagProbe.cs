using System.Diagnostics;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>
/// Measures propagation lag: a change is made on the primary by one client, and the replica is
/// watched with NOOP every couple of milliseconds (which makes Dovecot look at once) until it shows.
/// </summary>
internal sealed class LagProbe(UserImapClient primary, UserImapClient replica, string folder)
{
    private int _changesSeen = replica.MailboxChanges;

    public static async Task<LagProbe> OpenAsync(UserImapClient primary, UserImapClient replica, string folder)
    {
        await primary.SelectAsync(folder);
        await replica.SelectAsync(folder);
        return new LagProbe(primary, replica, folder);
    }

    /// <summary>Seconds from APPEND on the primary to the copy being visible on the replica.</summary>
    public async Task<double> AppendAsync(AppendMessage message, string messageId, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        await primary.AppendAsync(folder, message);
        var lastSearch = TimeSpan.Zero;
        while (clock.Elapsed < timeout)
        {
            // Search when the mailbox changed, and now and then regardless: expunges can hide a new EXISTS.
            if ((await ChangedAsync() || clock.Elapsed - lastSearch > TimeSpan.FromMilliseconds(250))
                && !(await replica.UidSearchAsync(SearchQuery.Header("Message-ID", messageId))).IsEmpty)
                return clock.Elapsed.TotalSeconds;
            if (clock.Elapsed - lastSearch > TimeSpan.FromMilliseconds(250)) lastSearch = clock.Elapsed;
            await Task.Delay(2);
        }
        throw new BenchException($"message {messageId} did not reach the replica within {timeout.TotalSeconds:0} s");
    }

    /// <summary>Seconds from STORE of a keyword on the primary to the keyword on the replica copy.</summary>
    public async Task<double> FlagAsync(uint primaryUid, string messageId, string keyword, TimeSpan timeout)
    {
        var replicaUid = (await replica.UidSearchAsync(SearchQuery.Header("Message-ID", messageId))).Expand().Single();
        var clock = Stopwatch.StartNew();
        await primary.UidStoreAsync(UidSet.Single(primaryUid), StoreMode.Add, new MessageFlags([keyword]), silent: true);
        while (clock.Elapsed < timeout)
        {
            // Only this message's own flags count: an untagged FETCH may be a late echo of an earlier probe.
            await replica.NoopAsync();
            using var check = await replica.UidFetchAsync(UidSet.Single(replicaUid), new FetchRequest(FetchItems.Flags));
            if (check.Messages.Any(m => m.Flags?.Contains(keyword) == true)) return clock.Elapsed.TotalSeconds;
            await Task.Delay(2);
        }
        throw new BenchException($"keyword {keyword} did not reach the replica within {timeout.TotalSeconds:0} s");
    }

    /// <summary>Whether the server has told of messages coming or going (EXISTS, EXPUNGE, VANISHED) since last asked, NOOP included.</summary>
    private async Task<bool> ChangedAsync()
    {
        await replica.NoopAsync();
        var changes = replica.MailboxChanges;
        var changed = changes != _changesSeen;
        _changesSeen = changes;
        return changed;
    }
}

using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Observer.Mail;

namespace Observer.Replication;

/// <summary>
/// Checks every folder with one LIST-STATUS (or STATUS each) per interval and reports those whose
/// UIDNEXT, MESSAGES, HIGHESTMODSEQ or UIDVALIDITY moved, and any change to the folder list.
/// It also ranks folders by recent activity, so the IDLE pool can watch the busiest.
/// </summary>
internal sealed class StatusPoller(IMailSessionFactory sessions, TimeSpan interval, FolderFilter filter, ReconnectOptions backoff, ILogger logger, TimeProvider time) : IWatcher
{
    private readonly Dictionary<string, MailboxStatus> _last = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _activity = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private string? _tree;
    private DateTimeOffset? _polledAt;

    public string Name => "poll";

    /// <summary>Told what each poll found changed, to check that NOTIFY reported it too (NOTIFY mode only).</summary>
    public PushHealth? Pushes { get; init; }

    /// <summary>Folders skipped by polling because an IDLE watcher covers them.</summary>
    public Func<IReadOnlySet<string>> Covered { get; set; } = () => new HashSet<string>();

    /// <summary>INBOX, then the folders that changed most recently.</summary>
    public IReadOnlyList<string> MostActive(int count)
    {
        lock (_gate)
        {
            return _last.Keys
                .OrderBy(n => FolderNameMapper.IsInbox(n) ? 0 : 1)
                .ThenByDescending(n => _activity.GetValueOrDefault(n))
                .ThenBy(n => n, StringComparer.Ordinal)
                .Take(count)
                .ToList();
        }
    }

    public Task RunAsync(ChannelWriter<ChangeSignal> signals, CancellationToken cancellationToken) =>
        WatcherLoop.RunAsync(Name, ct => PollAsync(signals, ct), backoff, logger, time, cancellationToken);

    private async Task PollAsync(ChannelWriter<ChangeSignal> signals, CancellationToken cancellationToken)
    {
        while (true)
        {
            await using var session = await sessions.ConnectAsync(ServerRole.Primary, Name, cancellationToken).ConfigureAwait(false);
            await PollUntilStaleAsync(session, signals, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Polls on one session until its folder list names a folder that STATUS says is not there, or, while NOTIFY
    /// is deaf or for a while after its session was lost, for one poll only. A long-lived Dovecot 2.3 session was seen to go on listing a folder renamed
    /// away, and not its new name nor new folders, until it logged out: its polls then never reach them. A new
    /// connection lists them right.
    /// </summary>
    private async Task PollUntilStaleAsync(IMailSession session, ChannelWriter<ChangeSignal> signals, CancellationToken cancellationToken)
    {
        // Unanswered on a new connection too: the server's own oddity (a Maildir++ parent deleted from under
        // its children stays listed), not a stale list, and no reason to reconnect at every poll.
        var phantoms = await PollOnceAsync(session, signals, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            await Task.Delay(interval, time, cancellationToken).ConfigureAwait(false);
            if (Pushes?.PollOnANewConnection() == true)
            {
                logger.LogDebug("watcher poll: NOTIFY is deaf or its session was lost lately, so this session's folder list may be stale too; polling on a new connection");
                return;
            }
            var unanswered = await PollOnceAsync(session, signals, cancellationToken).ConfigureAwait(false);
            if (unanswered.FirstOrDefault(n => !phantoms.Contains(n)) is { } gone)
            {
                logger.LogDebug("watcher poll listed {Folder}, which STATUS says is not there: its folder list may be stale; polling again on a new connection", gone);
                return;
            }
            phantoms.IntersectWith(unanswered);
        }
    }

    /// <returns>The selectable folders listed without status that STATUS then said are not there.</returns>
    internal async Task<HashSet<string>> PollOnceAsync(IMailSession session, ChannelWriter<ChangeSignal> signals, CancellationToken cancellationToken)
    {
        var unanswered = new HashSet<string>(StringComparer.Ordinal);
        // Before the LIST: a change it did not see happened after this.
        var asked = time.GetUtcNow();
        var list = await session.ListAsync(session.Features.ListStatus, cancellationToken).ConfigureAwait(false);
        var folders = list.Where(m => m.Mailbox.IsSelectable && filter.Includes(m.Mailbox.Name)).ToList();
        var now = time.GetUtcNow();

        var tree = string.Join('\n', list.Select(m => $"{m.Mailbox.Name}|{m.Mailbox.IsSubscribed}").Order(StringComparer.Ordinal));
        if (_tree is not null && tree != _tree)
        {
            signals.TryWrite(new TreeChanged(null, null, now));
            lock (_gate)
            {
                foreach (var fresh in folders.Select(f => f.Mailbox.Name).Where(n => !_last.ContainsKey(n)))
                    signals.TryWrite(new TreeChanged(null, fresh, now, Opens: true));
            }
        }
        _tree = tree;

        var covered = Covered();
        var changed = new List<string>();
        foreach (var folder in folders)
        {
            var name = folder.Mailbox.Name;
            var status = folder.Status;
            if (status is null)
            {
                if (covered.Contains(name) && _last.ContainsKey(name)) continue;
                try
                {
                    status = await session.StatusAsync(name, cancellationToken).ConfigureAwait(false);
                }
                catch (ImapCommandException ex) when (ex.Condition == ResponseCondition.No)
                {
                    // Deleted or renamed since the LIST (LIST-STATUS leaves such a folder without status), or a stale
                    // list. Failing the poll for it would stall every other folder.
                    unanswered.Add(name);
                    continue;
                }
            }
            lock (_gate)
            {
                if (_last.TryGetValue(name, out var before) && before != status)
                {
                    _activity[name] = now;
                    changed.Add(name);
                    signals.TryWrite(new FolderChanged(name, now, status.HighestModSeq, status.UidNext));
                }
                _last[name] = status;
            }
        }
        lock (_gate)
        {
            foreach (var gone in _last.Keys.Except(folders.Select(f => f.Mailbox.Name)).ToList()) _last.Remove(gone);
        }
        Pushes?.Polled(changed, _polledAt);
        _polledAt = asked;
        return unanswered;
    }
}

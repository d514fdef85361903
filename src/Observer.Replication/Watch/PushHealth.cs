using Microsoft.Extensions.Logging;

namespace Observer.Replication;

/// <summary>
/// Whether the NOTIFY session still hears what happens. Once Dovecot 2.3 has found its mailbox list index
/// corrupted (it does under concurrent folder renames), its NOTIFY sessions, new ones too, were seen to
/// report INBOX alone, for minutes. The STATUS poller is the witness: a change it finds that NOTIFY did not
/// report means the session is deaf. It is replaced, in case the server has recovered; while new sessions
/// stay deaf, each is given twice as long as the one before, so that a server that stays broken, or one that
/// never reports some folder, costs a login now and then, not one every poll. Polling carries the changes
/// meanwhile.
/// </summary>
internal sealed class PushHealth(TimeSpan pollInterval, ILogger logger, TimeProvider time)
{
    /// <summary>
    /// A change is judged at the first poll at least this long after the poll that found it: Dovecot holds
    /// its NOTIFY events for half a second, and a poll may find a change before its push.
    /// </summary>
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);

    /// <summary>How long a session that follows deaf ones is given, at most.</summary>
    private static readonly TimeSpan LongestTrial = TimeSpan.FromMinutes(30);

    /// <summary>
    /// Polls on a new connection after a NOTIFY session was lost. Dovecot 2.3 was seen to kill a session (signal 11) on
    /// finding its mailbox list index corrupted; from then on, long-lived sessions listed the folder tree as it was, and
    /// a folder renamed after that was heard of by no watcher. Ten polls: five minutes at the default interval.
    /// </summary>
    private const int NewConnectionPollsAfterALoss = 10;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, DateTimeOffset> _heard = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (DateTimeOffset ChangedAfter, DateTimeOffset FoundAt)> _suspects = new(StringComparer.Ordinal);
    private readonly HashSet<string> _missedBefore = new(StringComparer.Ordinal);
    private CancellationTokenSource? _session;
    private bool _replacing;
    private DateTimeOffset _connectedAt;
    private int _deafInARow;
    private bool _warned;
    private bool _heardBeyondInbox;
    private int _newConnectionPollsOwed;

    /// <summary>The first session is replaced after two polls at the soonest, each deaf one after it twice as late.</summary>
    private TimeSpan Trial => TimeSpan.FromTicks(Math.Min(2 * pollInterval.Ticks << Math.Min(_deafInARow, 20), Math.Max(LongestTrial.Ticks, 2 * pollInterval.Ticks)));

    /// <summary>
    /// Whether the last NOTIFY session was found deaf and none since has reported a folder but INBOX (a deaf
    /// Dovecot session still reports INBOX). A long-lived session's folder list is not to be trusted then
    /// either: the same broken list index leaves new folders out of it.
    /// </summary>
    public bool Deaf
    {
        get
        {
            lock (_gate) return DeafNow;
        }
    }

    private bool DeafNow => _deafInARow > 0 && !_heardBeyondInbox;

    /// <summary>
    /// Whether the poller's next poll lists on a new connection: while NOTIFY is deaf, and after a session was lost,
    /// until no session is listening and for the next polls while one is.
    /// </summary>
    public bool PollOnANewConnection()
    {
        lock (_gate)
        {
            if (DeafNow) return true;
            if (_newConnectionPollsOwed == 0) return false;
            // Counted from the new session on: polls while the watcher waits out its backoff do not use them up.
            if (_session is not null) _newConnectionPollsOwed--;
            return true;
        }
    }

    /// <summary>The session was lost before it listened (setting NOTIFY up, say): as <see cref="Disconnected"/> with lost.</summary>
    public void Lost()
    {
        lock (_gate) _newConnectionPollsOwed = NewConnectionPollsAfterALoss;
    }

    /// <summary>A new NOTIFY session begins to listen: the token it listens with is cancelled once it is found deaf.</summary>
    public CancellationToken Connected(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _replacing = false;
            _connectedAt = time.GetUtcNow();
            // What earlier sessions heard says nothing of this one.
            _heard.Clear();
            _heardBeyondInbox = false;
            _suspects.Clear();
            return _session.Token;
        }
    }

    /// <summary>The session ended: until the next one listens, no change is any session's to report.</summary>
    /// <param name="lost">It ended neither because it was found deaf nor because the service stops: the server or the network ended it.</param>
    public void Disconnected(bool lost)
    {
        lock (_gate)
        {
            _session?.Dispose();
            _session = null;
            _suspects.Clear();
            if (lost) _newConnectionPollsOwed = NewConnectionPollsAfterALoss;
        }
    }

    public void Heard(string folder)
    {
        var recovered = false;
        lock (_gate)
        {
            _heard[folder] = time.GetUtcNow();
            // The backoff ends only when a folder that was missed is heard: a server that never reports one folder
            // still costs a login now and then, not one every few polls.
            _heardBeyondInbox |= !FolderNameMapper.IsInbox(folder);
            if (_missedBefore.Contains(folder))
            {
                recovered = _warned;
                _missedBefore.Clear();
                _deafInARow = 0;
                _warned = false;
            }
        }
        if (recovered) Log.NotifyHearsAgain(logger, folder);
    }

    /// <summary>The poller found <paramref name="changed"/> different from its poll that began at <paramref name="previousPoll"/>.</summary>
    public void Polled(IEnumerable<string> changed, DateTimeOffset? previousPoll)
    {
        var now = time.GetUtcNow();
        CancellationTokenSource? deaf;
        List<string> missed;
        int inARow;
        bool warn;
        TimeSpan next;
        lock (_gate)
        {
            if (_session is null || _replacing) return;
            missed = [];
            foreach (var (folder, suspect) in _suspects.Where(s => now - s.Value.FoundAt >= Grace).ToList())
            {
                if (_heard.TryGetValue(folder, out var heard) && heard > suspect.ChangedAfter) _suspects.Remove(folder);
                else missed.Add(folder);
            }
            // Only a change made while this session listened is its to report.
            // A folder found changed again while its last change is still judged: that one stands, unless it is known
            // to have been heard, and then the new change is judged on its own.
            if (previousPoll is { } since && since >= _connectedAt)
            {
                foreach (var folder in changed)
                    if (!_suspects.TryGetValue(folder, out var earlier) || (_heard.TryGetValue(folder, out var heard) && heard > earlier.ChangedAfter))
                        _suspects[folder] = (since, now);
            }
            if (missed.Count == 0 || now - _connectedAt < Trial) return;
            deaf = _session;
            _replacing = true;
            _missedBefore.UnionWith(missed);
            // What it heard before it missed these says nothing of the sessions to come.
            _heardBeyondInbox = false;
            inARow = ++_deafInARow;
            warn = inARow >= 2 && !_warned;
            _warned |= warn;
            next = Trial;
        }
        var folders = $"{missed.Count} folders ({string.Join(", ", missed.Take(5))}{(missed.Count > 5 ? ", ..." : "")})";
        if (warn) Log.NotifyStaysDeaf(logger, folders, pollInterval.TotalSeconds, next.TotalSeconds);
        else if (inARow == 1) Log.NotifyDeaf(logger, folders);
        else logger.LogDebug("the NOTIFY session did not report changes that polling found in {Folders} either; replacing it, next after {Seconds:0} s", folders, next.TotalSeconds);
        try
        {
            deaf.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session ended by itself meanwhile.
        }
    }
}

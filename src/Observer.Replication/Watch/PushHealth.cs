using Microsoft.Extensions.Logging;

namespace Observer.Replication;

/// <summary>
/// Whether the NOTIFY session still hears what happens. Once Dovecot 2.3 has found its mailbox list index
/// corrupted (it does under concurrent folder renames), its NOTIFY sessions, new ones too, were seen to
/// report INBOX alone, for minutes. The STATUS poller is the witness: a change it finds that NOTIFY did not
/// report within a grace means the session is deaf. It is replaced, in case the server has recovered; while
/// new sessions stay deaf, each is given twice as long as the one before, so that a server that stays
/// broken costs a login now and then, not a login every poll. Polling carries the changes meanwhile.
/// A folder that no session ever reports (a server may leave some out for good) stops counting after it
/// was missed twice.
/// </summary>
internal sealed class PushHealth(TimeSpan pollInterval, ILogger logger, TimeProvider time)
{
    /// <summary>Dovecot holds its NOTIFY events for half a second; a poll may find a change before its push.</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);

    /// <summary>How long the deaf sessions in a row may be given, at most.</summary>
    private static readonly TimeSpan LongestTrial = TimeSpan.FromMinutes(30);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, DateTimeOffset> _lastHeard = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (DateTimeOffset ChangedAfter, DateTimeOffset FoundAt)> _suspects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _neverHeardMisses = new(StringComparer.Ordinal);
    private CancellationTokenSource? _session;
    private bool _replacing;
    private DateTimeOffset _connectedAt;
    private bool _heardBeyondInbox;
    private int _deafInARow;
    private bool _warned;

    /// <summary>
    /// A session is replaced at most once in two polls (each new one costs a login and a pass over the folder
    /// list), and a session that follows deaf ones is given longer.
    /// </summary>
    private TimeSpan ShortestSession => TimeSpan.FromTicks(Math.Min(2 * pollInterval.Ticks << Math.Min(_deafInARow, 20), Math.Max(LongestTrial.Ticks, 2 * pollInterval.Ticks)));

    /// <summary>A new NOTIFY session begins to listen: the token it listens with is cancelled once it is found deaf.</summary>
    public CancellationToken Connected(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // The previous session has ended: nothing listens with its token any more.
            _session?.Dispose();
            _session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _replacing = false;
            _heardBeyondInbox = false;
            _connectedAt = time.GetUtcNow();
            _suspects.Clear();
            return _session.Token;
        }
    }

    public void Heard(string folder)
    {
        var recovered = false;
        lock (_gate)
        {
            _lastHeard[folder] = time.GetUtcNow();
            _neverHeardMisses.Remove(folder);
            if (!FolderNameMapper.IsInbox(folder) && !_heardBeyondInbox)
            {
                _heardBeyondInbox = true;
                recovered = _warned;
                _deafInARow = 0;
                _warned = false;
            }
        }
        if (recovered) logger.LogInformation("NOTIFY on the primary reports folders other than INBOX again");
    }

    /// <summary>The poller found <paramref name="changed"/> different from its poll that began at <paramref name="previousPoll"/>.</summary>
    public void Polled(IEnumerable<string> changed, DateTimeOffset? previousPoll)
    {
        var now = time.GetUtcNow();
        CancellationTokenSource? deaf = null;
        List<string> missed;
        int inARow;
        bool warn;
        TimeSpan nextTrial;
        lock (_gate)
        {
            if (_session is null || _replacing) return;
            missed = [];
            foreach (var (folder, suspect) in _suspects.Where(s => now - s.Value.FoundAt >= Grace).ToList())
            {
                var unheard = _lastHeard.TryGetValue(folder, out var heard) ? heard <= suspect.ChangedAfter : _neverHeardMisses.GetValueOrDefault(folder) < 2;
                if (unheard) missed.Add(folder);
                else _suspects.Remove(folder);
            }
            // Only a change made while this session listened is its to report.
            if (previousPoll is { } since && since >= _connectedAt)
                foreach (var folder in changed) _suspects.TryAdd(folder, (since, now));
            if (missed.Count == 0 || now - _connectedAt < ShortestSession) return;
            deaf = _session;
            _replacing = true;
            foreach (var folder in missed.Where(f => !_lastHeard.ContainsKey(f))) _neverHeardMisses[folder] = _neverHeardMisses.GetValueOrDefault(folder) + 1;
            inARow = ++_deafInARow;
            warn = inARow >= 2 && !_warned;
            _warned |= warn;
            nextTrial = ShortestSession;
        }
        var folders = $"{missed.Count} folders ({string.Join(", ", missed.Take(5))}{(missed.Count > 5 ? ", ..." : "")})";
        if (warn)
            logger.LogWarning("NOTIFY on the primary left out changes that polling found in {Folders}, on a new connection too: they reach the replica at the next STATUS poll (every {Poll:0} s) instead. Dovecot 2.3 does this once it has found its mailbox list index corrupted (\"Corrupted mailbox list index\" in its log). A new NOTIFY session is tried after {Next:0} s, and less often while they stay deaf",
                folders, pollInterval.TotalSeconds, nextTrial.TotalSeconds);
        else
            logger.Log(inARow == 1 ? LogLevel.Information : LogLevel.Debug,
                "the NOTIFY session did not report changes that polling found in {Folders}; replacing it with a new session", folders);
        try
        {
            deaf.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session ended by itself meanwhile and a new one has begun.
        }
    }
}

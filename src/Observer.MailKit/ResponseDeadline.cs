namespace Observer.MailKit;

/// <summary>
/// The command deadline for one MailKit call. MailKit's own timeout is per read, so a server that
/// trickles a byte a second would hold a call for ever; here a call gets CommandTimeout, plus time for
/// what it moves at <see cref="MinimumRate"/> (lines and announced literals received, bytes sent), and is
/// cancelled past that, which closes the connection. Time the caller spends holding MailKit back (a
/// consumer slow to take fetched messages) is not charged to the server.
/// </summary>
internal sealed class ResponseDeadline : IDisposable
{
    /// <summary>The slowest transfer waited for: 32 KiB/s (256 kbit/s).</summary>
    public const long MinimumRate = 32 * 1024;

    private readonly ProtocolTraceLogger _tap;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly PauseClock _pauses;
    private readonly CancellationTokenSource _cancel;
    private readonly ITimer _timer;
    private readonly long _startedAt;
    private readonly long _received;
    private readonly long _credited;
    private readonly TimeSpan _paused;

    public ResponseDeadline(ProtocolTraceLogger tap, TimeProvider time, TimeSpan timeout, PauseClock pauses, CancellationToken cancellationToken)
    {
        _tap = tap;
        _time = time;
        _timeout = timeout;
        _pauses = pauses;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _startedAt = time.GetTimestamp();
        _received = tap.Received;
        _credited = tap.Credited;
        _paused = pauses.Total;
        var period = TimeSpan.FromTicks(Math.Clamp(timeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 100, TimeSpan.TicksPerSecond));
        _timer = time.CreateTimer(_ => Check(), null, period, period);
    }

    public CancellationToken Token => _cancel.Token;

    /// <summary>Why the call was cut, once it was.</summary>
    public string? Reason { get; private set; }

    private readonly Lock _gate = new();
    private bool _disposed;

    private void Check()
    {
        // The timer may fire once more while Dispose runs: the lock keeps Cancel off a disposed source.
        lock (_gate)
        {
            if (!_disposed) CheckLocked();
        }
    }

    private void CheckLocked()
    {
        if (Reason is not null) return;
        if (_tap.OversizedLiteralProblem is { } oversized)
        {
            // No wait can make it readable: the call ends now.
            Reason = oversized;
            _cancel.Cancel();
            return;
        }
        if (_pauses.IsPaused) return;
        var spent = _time.GetElapsedTime(_startedAt) - (_pauses.Total - _paused);
        var allowed = _timeout + TimeSpan.FromSeconds((double)Math.Max(0, _tap.Credited - _credited) / MinimumRate);
        if (spent <= allowed) return;
        var bytes = _tap.Received - _received;
        var seconds = spent.TotalSeconds.ToString("0", System.Globalization.CultureInfo.InvariantCulture);
        Reason = bytes == 0 ? $"sent nothing for {seconds} s" : $"sent only {bytes} bytes in {seconds} s";
        _cancel.Cancel();
    }

    public void Dispose()
    {
        _timer.Dispose();
        lock (_gate)
        {
            _disposed = true;
            _cancel.Dispose();
        }
    }
}

/// <summary>Time during which the caller, not the server, holds a call up.</summary>
internal sealed class PauseClock(TimeProvider time)
{
    private readonly Lock _gate = new();
    private TimeSpan _total;
    private long? _since;

    public bool IsPaused
    {
        get { lock (_gate) return _since is not null; }
    }

    public TimeSpan Total
    {
        get
        {
            lock (_gate) return _total + (_since is { } since ? time.GetElapsedTime(since) : TimeSpan.Zero);
        }
    }

    public IDisposable Pause()
    {
        lock (_gate) _since = time.GetTimestamp();
        return new Resume(this);
    }

    private void End()
    {
        lock (_gate)
        {
            if (_since is { } since) _total += time.GetElapsedTime(since);
            _since = null;
        }
    }

    /// <summary>Ends its own pause once: disposed again later, it must not end a pause begun since.</summary>
    private sealed class Resume(PauseClock clock) : IDisposable
    {
        private int _ended;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0) clock.End();
        }
    }
}

namespace Observer.Imap;

/// <summary>
/// The watchdog's accounts: how long the server has taken over the response frame it is sending,
/// and over each command from send to tagged completion, against what it promised and sent.
/// A server that trickles a byte a second is as stuck as a silent one, so mere activity never
/// extends a deadline; only bytes do, at <see cref="MinimumRate"/>. What is our own doing is not
/// charged to the server: time our handlers spend on a frame (a consumer applying backpressure),
/// and the upload of a command's literals, which instead adds its size to that command's allowance.
/// </summary>
internal sealed class ResponseDeadlines(ImapClientOptions options)
{
    /// <summary>
    /// The slowest transfer we wait for, in bytes per second. 32 KiB/s is 256 kbit/s, below the
    /// uplink of any line one would replicate mail over, so a legitimate 30 MB message gets a quarter
    /// of an hour beyond CommandTimeout; a server trickling a few bytes a second earns almost nothing
    /// and is cut soon after CommandTimeout; the largest literal the limits admit (512 MB) ends in 4.5 hours.
    /// </summary>
    public const long MinimumRate = 32 * 1024;

    private readonly Lock _gate = new();
    private readonly TimeProvider _time = options.TimeProvider;

    // The frame now arriving: since when it is awaited, the bytes of it since then, the literal bytes it announced.
    private long _frameSince;
    private long _frameBytes;
    private long _frameAnnounced;

    // Running totals, against which each command measures its own share (see CommandClock). Credit is
    // what earns time: the text of complete frames and the literal sizes announced, counted once each.
    private long _received;
    private long _credited;
    private TimeSpan _paused;
    private long? _pausedSince;
    private bool _uploading;

    public long BytesReceived
    {
        get
        {
            lock (_gate) return _received;
        }
    }

    /// <summary>Someone now waits for the server (a command was written, IDLE ended): the frame's clock starts again.</summary>
    public void Waiting()
    {
        lock (_gate)
        {
            _frameSince = _time.GetTimestamp();
            _frameBytes = 0;
        }
    }

    /// <summary>A literal is being uploaded: the server cannot answer before it has read it, so no frame is overdue.</summary>
    public void Uploading()
    {
        lock (_gate) _uploading = true;
    }

    public void Uploaded()
    {
        lock (_gate) _uploading = false;
        Waiting();
    }

    public void Received(int count)
    {
        lock (_gate)
        {
            _received += count;
            _frameBytes += count;
        }
    }

    /// <summary>A line announced a literal: the frame and every command waiting may take that much longer.</summary>
    public void Announced(long size)
    {
        lock (_gate)
        {
            _frameAnnounced += size;
            _credited += size;
        }
    }

    /// <summary>A frame is complete and is being handled: until <see cref="Handled"/>, the delay is ours.</summary>
    public void FrameRead(int textLength)
    {
        lock (_gate)
        {
            _credited += textLength;
            _frameBytes = 0;
            _frameAnnounced = 0;
            _pausedSince = _time.GetTimestamp();
        }
    }

    public void Handled()
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            if (_pausedSince is { } since) _paused += _time.GetElapsedTime(since, now);
            _pausedSince = null;
            _frameSince = now;
            _frameBytes = 0;
        }
    }

    /// <summary>
    /// Starts <paramref name="command"/>'s clock. <paramref name="sending"/> is the size of the literals
    /// it uploads, which the server must read before it can answer; <paramref name="limit"/>, if given,
    /// caps the whole command whatever it receives (login must finish within ConnectTimeout).
    /// </summary>
    public void Start(PendingCommand command, long sending = 0, TimeSpan? limit = null)
    {
        lock (_gate) command.Clock = new CommandClock(_time.GetTimestamp(), _received, _credited - sending, _paused, limit);
    }

    /// <summary>Restarts a command's clock after IDLE, whose silence was expected.</summary>
    public void Restart(PendingCommand command)
    {
        Start(command, 0, command.Clock.Limit);
        Waiting();
    }

    /// <summary>Says why the server is overdue with the frame or one of <paramref name="waiting"/>, or null when it is not.</summary>
    public string? Overdue(IReadOnlyList<PendingCommand> waiting)
    {
        lock (_gate)
        {
            // A handler is still busy with the last frame: any delay now is ours, and is not counted.
            if (_pausedSince is not null) return null;
            var now = _time.GetTimestamp();
            var frame = _time.GetElapsedTime(_frameSince, now);
            if (!_uploading && frame > options.CommandTimeout + AtMinimumRate(_frameAnnounced))
                return TooSlow(_frameBytes, frame, "for one response");
            foreach (var command in waiting)
            {
                var clock = command.Clock;
                var spent = _time.GetElapsedTime(clock.StartedAt, now) - (_paused - clock.Paused);
                var allowed = options.CommandTimeout + AtMinimumRate(_credited - clock.Credited);
                if (clock.Limit is { } limit && limit < allowed) allowed = limit;
                if (spent > allowed) return TooSlow(_received - clock.Received, spent, $"in answer to {command.Verb}");
            }
            return null;
        }
    }

    private string TooSlow(long bytes, TimeSpan time, string what)
    {
        var who = $"{options.TraceName} at {options.Host}:{options.Port}";
        var seconds = time.TotalSeconds.ToString("0", System.Globalization.CultureInfo.InvariantCulture);
        return bytes == 0
            ? $"no response from {who} for {seconds} s"
            : $"{who} sent only {bytes} bytes in {seconds} s {what}; it is too slow or not an IMAP server";
    }

    private static TimeSpan AtMinimumRate(long bytes) => TimeSpan.FromSeconds((double)Math.Max(0, bytes) / MinimumRate);
}

/// <summary>Where the running totals stood when a command was sent, so its own share can be told.</summary>
internal readonly record struct CommandClock(long StartedAt, long Received, long Credited, TimeSpan Paused, TimeSpan? Limit);

using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace Observer.Imap;

/// <summary>
/// One IMAP connection: the stream, the tags, the commands in flight and the background reader
/// that dispatches every response. Any I/O error, timeout or protocol violation breaks the
/// connection for good (<see cref="Break"/>); reconnecting is the caller's job.
/// </summary>
internal sealed class ImapConnection : IAsyncDisposable
{
    private readonly ImapClientOptions _options;
    private readonly ProtocolTrace _trace;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Lock _gate = new();
    private readonly List<PendingCommand> _inFlight = [];
    private readonly CancellationTokenSource _lifetime = new();
    private readonly EventQueue _events;
    private readonly ResponseDeadlines _deadlines;
    private Stream _stream;
    private Stream _writer;
    private ResponseFrameReader _reader;
    private Task _readLoop = Task.CompletedTask;
    private ITimer? _watchdog;
    private PendingCommand? _continuationWaiter;
    private int _nextTag;
    private Exception? _broken;
    private string? _byeText;
    private volatile bool _closing;

    private ImapConnection(ImapClientOptions options, Stream stream)
    {
        _options = options;
        _trace = new ProtocolTrace(options.ProtocolLogger, options.TraceName);
        _events = new EventQueue(options.EventQueueCapacity);
        _deadlines = new ResponseDeadlines(options);
        _stream = stream;
        _writer = new BufferedStream(stream, 64 * 1024);
        _reader = NewReader(stream);
    }

    public ImapCapabilities Capabilities { get; private set; } = ImapCapabilities.Unknown;

    public bool Utf8Enabled { get; set; }

    public ParseContext ParseContext => new(_options.Limits, Utf8Enabled);

    public ChannelReader<UntaggedResponse> Events => _events.Reader;

    public bool IsBroken => Volatile.Read(ref _broken) is not null;

    public Exception? BreakReason => Volatile.Read(ref _broken);

    public ResponseCondition GreetingCondition { get; private set; }

    public ImapClientOptions Options => _options;

    /// <summary>Bytes read from the server so far (tests wait on it rather than sleep).</summary>
    public long BytesReceived => _deadlines.BytesReceived;

    /// <summary>Connects, reads the greeting, upgrades with STARTTLS if asked, then starts the reader.</summary>
    public static async Task<ImapConnection> OpenAsync(ImapClientOptions options, CancellationToken cancellationToken)
    {
        var stream = await ImapTransport.ConnectTcpAsync(options, cancellationToken).ConfigureAwait(false);
        ImapConnection? connection = null;
        try
        {
            if (options.Security == ImapSecurity.Tls)
                stream = await ImapTransport.StartTlsAsync(stream, options, cancellationToken).ConfigureAwait(false);
            connection = new ImapConnection(options, stream);
            // One deadline for the greeting and STARTTLS together: a server trickling its greeting is cut too.
            using var timeout = new TimeLimit(options.ConnectTimeout, options.TimeProvider, cancellationToken);
            await connection.ReadGreetingAsync(timeout.Token).ConfigureAwait(false);
            if (options.Security == ImapSecurity.StartTls)
                await connection.UpgradeWithStartTlsAsync(timeout.Token).ConfigureAwait(false);
            connection.StartReader();
            return connection;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var received = connection?.BytesReceived ?? 0;
            await DisposeQuietly(connection, stream).ConfigureAwait(false);
            if (received == 0)
                throw new ImapConnectionException($"{options.Host}:{options.Port} did not send a greeting within {options.ConnectTimeout.TotalSeconds:0} s");
            throw new ImapConnectionException(
                $"{options.TraceName} at {options.Host}:{options.Port} sent only {received} bytes in {options.ConnectTimeout.TotalSeconds:0} s while connecting; it is too slow or not an IMAP server");
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            await DisposeQuietly(connection, stream).ConfigureAwait(false);
            throw new ImapConnectionException($"connection to {options.Host}:{options.Port} failed: {ex.Message}", ex);
        }
        catch
        {
            await DisposeQuietly(connection, stream).ConfigureAwait(false);
            throw;
        }
    }

    private static async Task DisposeQuietly(ImapConnection? connection, Stream stream)
    {
        if (connection is not null) await connection.DisposeAsync().ConfigureAwait(false);
        else await stream.DisposeAsync().ConfigureAwait(false);
    }

    private ResponseFrameReader NewReader(Stream stream) =>
        new(stream, _options.Limits, _options.LiteralSpool) { BytesReceived = _deadlines.Received, LiteralAnnounced = _deadlines.Announced };

    private async Task ReadGreetingAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            object response;
            using (var frame = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                _trace.Received(frame);
                // An IMAP greeting is untagged. Anything else (an SMTP "220 ...", a POP3 "+OK") is the wrong service,
                // which the parser would only call malformed.
                if (!frame.Text.AsSpan().StartsWith("* "u8)) throw new ImapGreetingException(_options.Host, _options.Port, Printable(frame.Text));
                response = ResponseParser.Parse(frame, ParseContext);
            }
            if (response is not UntaggedConditionResponse greeting)
                throw new ImapProtocolException("server did not start with a greeting");
            if (greeting.Condition == ResponseCondition.Bye)
                throw new ImapConnectionException($"{_options.Host} refused the connection: {greeting.Text}");
            // Dovecot sends "* OK Waiting for authentication process to respond.." before its real greeting when busy.
            if (greeting.Condition != ResponseCondition.Ok && greeting.Condition != ResponseCondition.PreAuth)
                throw new ImapProtocolException($"unexpected greeting: {greeting.Condition} {greeting.Text}");
            GreetingCondition = greeting.Condition;
            if (greeting.Code is CapabilityCode caps)
            {
                Capabilities = new ImapCapabilities(caps.Capabilities);
                return;
            }
            if (!greeting.Text.StartsWith("Waiting for authentication", StringComparison.OrdinalIgnoreCase)) return;
        }
    }

    private static string Printable(byte[] text)
    {
        var chars = Encoding.ASCII.GetString(text, 0, Math.Min(text.Length, 80)).Select(c => c is >= ' ' and < '\x7f' ? c : '?').ToArray();
        return new string(chars) + (text.Length > 80 ? "..." : "");
    }

    private async Task UpgradeWithStartTlsAsync(CancellationToken cancellationToken)
    {
        if (Capabilities.IsEmpty) await ExecuteDirectAsync(new ImapCommand("CAPABILITY"), cancellationToken).ConfigureAwait(false);
        if (!Capabilities.StartTls)
            throw new ImapConnectionException($"{_options.Host} does not offer STARTTLS; use Security=Tls on the implicit-TLS port, or Security=None on a trusted network");
        var done = await ExecuteDirectAsync(new ImapCommand("STARTTLS"), cancellationToken).ConfigureAwait(false);
        if (done.Condition != ResponseCondition.Ok)
            throw new ImapConnectionException($"{_options.Host} refused STARTTLS: {done.Text}");
        // Bytes after the OK but before the handshake were sent in clear text and could be injected (CVE-2011-0411).
        if (_reader.HasBufferedData)
            throw new ImapProtocolException("server sent data after STARTTLS before the TLS handshake");
        _stream = await ImapTransport.StartTlsAsync(_stream, _options, cancellationToken).ConfigureAwait(false);
        _writer = new BufferedStream(_stream, 64 * 1024);
        _reader = NewReader(_stream);
        // RFC 3501 §6.2.1: capabilities learned before TLS must be discarded.
        Capabilities = ImapCapabilities.Unknown;
        await ExecuteDirectAsync(new ImapCommand("CAPABILITY"), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs a command before the reader loop exists (greeting and STARTTLS phase).</summary>
    private async Task<TaggedResponse> ExecuteDirectAsync(ImapCommand command, CancellationToken cancellationToken)
    {
        var tag = NextTag();
        await WriteTextAsync($"{tag} {(string)command.Parts[0]}\r\n", $"{tag} {command.TraceText}", cancellationToken).ConfigureAwait(false);
        await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var response = await ReadDirectAsync(cancellationToken).ConfigureAwait(false);
            switch (response)
            {
                case TaggedResponse tagged when tagged.Tag == tag:
                    ObserveCodes(tagged.Code);
                    return tagged;
                case CapabilityResponse caps:
                    Capabilities = new ImapCapabilities(caps.Capabilities);
                    break;
                case UntaggedConditionResponse { Condition: ResponseCondition.Bye } bye:
                    throw new ImapConnectionException($"{_options.Host} closed the connection: {bye.Text}");
                case TaggedResponse or ContinuationResponse:
                    throw new ImapProtocolException("unexpected response before login");
            }
        }
    }

    private async Task<object> ReadDirectAsync(CancellationToken cancellationToken)
    {
        using var frame = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        _deadlines.FrameRead(frame.Text.Length);
        _deadlines.Handled();
        _trace.Received(frame);
        return ResponseParser.Parse(frame, ParseContext);
    }

    private void StartReader()
    {
        _deadlines.Waiting();
        _readLoop = Task.Run(ReadLoopAsync);
        var period = TimeSpan.FromTicks(Math.Clamp(_options.CommandTimeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 50, TimeSpan.TicksPerSecond));
        _watchdog = _options.TimeProvider.CreateTimer(_ => CheckTimeout(), null, period, period);
    }

    private string NextTag() => "A" + Interlocked.Increment(ref _nextTag).ToString("D4", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>We wrote something the server must answer: the wait for its next frame starts now.</summary>
    private void Touch() => _deadlines.Waiting();

    /// <summary>Leaves IDLE's exemption: the wait for DONE's answer is timed from now.</summary>
    public void EndIdling(PendingCommand pending)
    {
        _deadlines.Restart(pending);
        pending.IsIdling = false;
    }

    /// <summary>
    /// Sends a command and waits for its tagged completion. <paramref name="interact"/>, if given,
    /// runs after the command line is written and while the writer is still held: it drives
    /// continuation exchanges (AUTHENTICATE, IDLE). Commands may be pipelined by calling this concurrently.
    /// <paramref name="limit"/> caps the whole command, on top of the usual response deadlines.
    /// </summary>
    public async Task<TaggedResponse> ExecuteAsync(
        ImapCommand command,
        IUntaggedHandler? handler,
        CancellationToken cancellationToken,
        Func<PendingCommand, Task<ContinuationResponse?>, CancellationToken, Task>? interact = null,
        TimeSpan? limit = null)
    {
        ThrowIfBroken();
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        PendingCommand pending;
        try
        {
            ThrowIfBroken();
            pending = new PendingCommand(NextTag(), command.Verb, handler);
            _deadlines.Start(pending, command.Parts.OfType<LiteralPart>().Sum(p => p.Content.Length), limit);
            lock (_gate) _inFlight.Add(pending);
            Touch();
            try
            {
                var firstContinuation = await WriteCommandAsync(pending, command, interact is not null, cancellationToken).ConfigureAwait(false);
                if (interact is not null) await interact(pending, firstContinuation!, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not ImapException || ex is ImapProtocolException)
            {
                // Part of a command may be on the wire: the stream's state is unknown, so it cannot be reused.
                throw Break(ex);
            }
        }
        finally
        {
            _writeLock.Release();
        }

        try
        {
            return await pending.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            pending.Abandon();
            throw;
        }
    }

    /// <summary>Writes the command; when <paramref name="interactive"/>, returns the armed wait for its first "+".</summary>
    private async Task<Task<ContinuationResponse?>?> WriteCommandAsync(PendingCommand pending, ImapCommand command, bool interactive, CancellationToken cancellationToken)
    {
        var trace = new StringBuilder(pending.Tag).Append(' ');
        var line = new StringBuilder(pending.Tag).Append(' ');
        var traceText = command.TraceText;
        foreach (var part in command.Parts)
        {
            if (part is string text)
            {
                line.Append(text);
                continue;
            }
            var literal = ((LiteralPart)part).Content;
            var nonSync = Capabilities.LiteralPlus || (Capabilities.LiteralMinus && literal.Length <= 4096);
            line.Append('{').Append(literal.Length).Append(nonSync ? "+}" : "}").Append("\r\n");
            await WriteRawAsync(line.ToString(), cancellationToken).ConfigureAwait(false);
            line.Clear();
            if (!nonSync)
            {
                var go = ExpectContinuation(pending);
                await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (await go.WaitAsync(cancellationToken).ConfigureAwait(false) is null)
                {
                    // Refused before the literal was sent (for example APPEND over quota): nothing more to write.
                    _trace.Sent(trace.Append(traceText).ToString());
                    return interactive ? Task.FromResult<ContinuationResponse?>(null) : null;
                }
            }
            _deadlines.Uploading();
            try
            {
                await literal.CopyToAsync(_writer, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _deadlines.Uploaded();
            }
        }
        line.Append("\r\n");
        await WriteRawAsync(line.ToString(), cancellationToken).ConfigureAwait(false);
        var continuation = interactive ? ExpectContinuation(pending) : null;
        await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        _trace.Sent(trace.Append(traceText).ToString());
        return continuation;
    }

    /// <summary>Writes one line during an interactive exchange (a SASL response, IDLE's DONE) and flushes it.</summary>
    public async Task WriteLineAsync(string line, string traceLine, CancellationToken cancellationToken)
    {
        await WriteTextAsync(line + "\r\n", traceLine, cancellationToken).ConfigureAwait(false);
        await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Arms <paramref name="pending"/> to receive the next "+" (call before writing what provokes it).</summary>
    public Task<ContinuationResponse?> ExpectContinuation(PendingCommand pending)
    {
        lock (_gate) _continuationWaiter = pending;
        return pending.ExpectContinuation();
    }

    private async Task WriteTextAsync(string text, string trace, CancellationToken cancellationToken)
    {
        await WriteRawAsync(text, cancellationToken).ConfigureAwait(false);
        _trace.Sent(trace);
    }

    private async Task WriteRawAsync(string text, CancellationToken cancellationToken)
    {
        await _writer.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);
        Touch();
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                object response;
                var frame = await _reader.ReadAsync(_lifetime.Token).ConfigureAwait(false);
                _deadlines.FrameRead(frame.Text.Length);
                try
                {
                    try
                    {
                        _trace.Received(frame);
                        response = ResponseParser.Parse(frame, ParseContext);
                    }
                    finally
                    {
                        frame.Dispose();
                    }
                    await DispatchAsync(response).ConfigureAwait(false);
                }
                finally
                {
                    _deadlines.Handled();
                }
            }
        }
        catch (Exception ex)
        {
            Break(ex);
        }
    }

    private async ValueTask DispatchAsync(object response)
    {
        switch (response)
        {
            case ContinuationResponse continuation:
            {
                PendingCommand? waiter;
                lock (_gate)
                {
                    waiter = _continuationWaiter;
                    _continuationWaiter = null;
                }
                if (waiter is null) throw new ImapProtocolException("server sent a continuation request no command asked for");
                waiter.OfferContinuation(continuation);
                break;
            }
            case TaggedResponse tagged:
            {
                PendingCommand? pending;
                lock (_gate)
                {
                    pending = _inFlight.Find(p => p.Tag == tagged.Tag);
                    if (pending is not null) _inFlight.Remove(pending);
                    if (_continuationWaiter == pending) _continuationWaiter = null;
                }
                if (pending is null) throw new ImapProtocolException($"server completed a command we never sent (tag {ResponseParser.Printable(tagged.Tag)})");
                ObserveCodes(tagged.Code);
                pending.Complete(tagged);
                break;
            }
            case UntaggedResponse untagged:
            {
                ObserveUntagged(untagged);
                PendingCommand? head;
                lock (_gate) head = _inFlight.Count > 0 ? _inFlight[0] : null;
                if (head is { IsAbandoned: false, Handler: { } handler } && await handler.HandleAsync(untagged, _lifetime.Token).ConfigureAwait(false)) break;
                if (head is { IsAbandoned: true, Handler: not null } && untagged is FetchResponse orphan)
                {
                    // Most likely an answer to the FETCH its caller cancelled.
                    orphan.Dispose();
                    break;
                }
                _events.Publish(untagged);
                break;
            }
        }
    }

    private void ObserveUntagged(UntaggedResponse response)
    {
        switch (response)
        {
            case CapabilityResponse caps:
                Capabilities = new ImapCapabilities(caps.Capabilities);
                break;
            case UntaggedConditionResponse { Condition: ResponseCondition.Bye } bye:
                _byeText = bye.Text;
                break;
            case UntaggedConditionResponse condition:
                ObserveCodes(condition.Code);
                break;
        }
    }

    private void ObserveCodes(ResponseCode? code)
    {
        if (code is CapabilityCode caps) Capabilities = new ImapCapabilities(caps.Capabilities);
    }

    private void CheckTimeout()
    {
        List<PendingCommand> waiting;
        lock (_gate) waiting = _inFlight.FindAll(p => !p.IsIdling);
        if (waiting.Count == 0) return;
        if (_deadlines.Overdue(waiting) is { } why) Break(new ImapConnectionException(why));
    }

    private void ThrowIfBroken()
    {
        var broken = BreakReason;
        if (broken is not null) throw broken is ImapException ? Rewrap(broken) : new ImapConnectionException("connection is closed", broken);
    }

    private static Exception Rewrap(Exception broken) =>
        broken is ImapProtocolException p ? new ImapConnectionException($"connection was broken: {p.Message}", p) : broken;

    /// <summary>
    /// Ends the connection for good and fails everything waiting on it. Returns the exception
    /// that describes why, for the caller to throw.
    /// </summary>
    public Exception Break(Exception reason)
    {
        var error = Describe(reason);
        List<PendingCommand> failed;
        lock (_gate)
        {
            if (_broken is not null) return _broken;
            _broken = error;
            failed = [.. _inFlight];
            _inFlight.Clear();
            _continuationWaiter = null;
        }
        _watchdog?.Dispose();
        _lifetime.Cancel();
        try
        {
            _stream.Dispose();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The stream is being thrown away; a failure to close it cleanly changes nothing.
        }
        foreach (var pending in failed) pending.Fail(error);
        _events.Complete(error);
        if (!_closing) _trace.Broken(error.Message);
        return error;
    }

    private Exception Describe(Exception reason)
    {
        if (_closing) return new ImapConnectionException("connection closed");
        var bye = _byeText is null ? "" : $" (BYE {_byeText})";
        return reason switch
        {
            // Say which connection misbehaved: an admin with two servers needs to know which one.
            ImapProtocolException p => new ImapProtocolException($"{_options.TraceName} at {_options.Host}:{_options.Port}: {p.Message}", p),
            ImapConnectionException when _byeText is not null => new ImapConnectionException($"{_options.Host} closed the connection{bye}", reason),
            ImapException => reason,
            OperationCanceledException => new ImapConnectionException($"connection to {_options.Host} closed{bye}", reason),
            IOException or SocketException or ObjectDisposedException =>
                new ImapConnectionException($"connection to {_options.Host} lost: {reason.Message}{bye}", reason),
            _ => new ImapConnectionException($"connection to {_options.Host} failed: {reason.Message}", reason),
        };
    }

    /// <summary>Marks the connection as closing so the BYE and EOF that follow LOGOUT are not errors.</summary>
    public void ExpectClose() => _closing = true;

    public async ValueTask DisposeAsync()
    {
        _closing = true;
        Break(new ImapConnectionException("connection closed"));
        try
        {
            await _readLoop.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ImapException)
        {
            // The loop ends by design once the stream is closed.
        }
        _lifetime.Dispose();
        // _writeLock is not disposed: a command racing with the close may still release it, and a
        // SemaphoreSlim whose wait handle was never asked for holds nothing to free.
    }
}

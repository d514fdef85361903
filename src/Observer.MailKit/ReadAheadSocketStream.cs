using System.Net.Sockets;

namespace Observer.MailKit;

/// <summary>
/// The TCP stream under MailKit, read and written in large pieces. MailKit reads and writes its socket
/// 4 KB at a time: a 500 MB copy cost about 260,000 reads, and an APPEND of 50 small messages about 100
/// sends, each a segment the server must read on its own. Here each read fills a 64 KB buffer, and
/// writes are gathered until 64 KB wait or the client turns to read.
/// </summary>
/// <remarks>
/// Gathered writes are sent before any read, not at a flush: IMAP answers only what it was sent, so the
/// client always reads after it writes, and MailKit's own flush skips ours anyway when its last write
/// ended on a 4 KB boundary. While a read is waiting, writes go straight
/// through, unbuffered: MailKit writes IDLE's DONE from a cancellation callback while it is reading.
/// No lock is held across I/O, so a write never waits behind another one (a server that stopped reading
/// would hang whoever cancelled). Below TLS, when MailKit adds it, so it saves on both.
/// </remarks>
internal sealed class ReadAheadSocketStream(NetworkStream inner) : Stream
{
    private const int BufferSize = 64 * 1024;

    private readonly byte[] _input = new byte[BufferSize];
    private int _inputStart;
    private int _inputEnd;

    private readonly Lock _gate = new();
    private byte[] _output = new byte[BufferSize];
    private byte[] _spare = new byte[BufferSize];
    private int _outputLength;
    private bool _reading;

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override bool CanTimeout => inner.CanTimeout;

    public override int ReadTimeout
    {
        get => inner.ReadTimeout;
        set => inner.ReadTimeout = value;
    }

    public override int WriteTimeout
    {
        get => inner.WriteTimeout;
        set => inner.WriteTimeout = value;
    }

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_inputStart == _inputEnd)
        {
            await BeginReadAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (buffer.Length >= BufferSize) return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                _inputStart = 0;
                _inputEnd = await inner.ReadAsync(_input, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                EndRead();
            }
        }
        return TakeInput(buffer.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_inputStart == _inputEnd)
        {
            BeginRead();
            try
            {
                if (buffer.Length >= BufferSize) return inner.Read(buffer);
                _inputStart = 0;
                _inputEnd = inner.Read(_input);
            }
            finally
            {
                EndRead();
            }
        }
        return TakeInput(buffer);
    }

    private int TakeInput(Span<byte> buffer)
    {
        var n = Math.Min(buffer.Length, _inputEnd - _inputStart);
        _input.AsSpan(_inputStart, n).CopyTo(buffer);
        _inputStart += n;
        return n;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Gather(buffer.Span)) return;
        await SendGatheredAsync(cancellationToken).ConfigureAwait(false);
        if (Gather(buffer.Span)) return;
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (Gather(buffer)) return;
        SendGathered();
        if (Gather(buffer)) return;
        inner.Write(buffer);
    }

    // A flush leaves the gathered writes for the read that follows it: MailKit flushes after every literal
    // of a MULTIAPPEND, which would send each message on its own again.
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    /// <summary>Adds to the gathered writes if there is room and no read is waiting.</summary>
    private bool Gather(ReadOnlySpan<byte> bytes)
    {
        lock (_gate)
        {
            if (_reading || _outputLength + bytes.Length > BufferSize) return false;
            bytes.CopyTo(_output.AsSpan(_outputLength));
            _outputLength += bytes.Length;
            return true;
        }
    }

    /// <summary>Takes what was gathered, leaving an empty buffer for the writes that follow.</summary>
    private (byte[] Bytes, int Length) TakeGathered()
    {
        lock (_gate)
        {
            var taken = (_output, _outputLength);
            (_output, _spare, _outputLength) = (_spare, _output, 0);
            return taken;
        }
    }

    private async Task SendGatheredAsync(CancellationToken cancellationToken)
    {
        var (bytes, length) = TakeGathered();
        if (length > 0) await inner.WriteAsync(bytes.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
    }

    private void SendGathered()
    {
        var (bytes, length) = TakeGathered();
        if (length > 0) inner.Write(bytes, 0, length);
    }

    /// <summary>Sends everything gathered, then marks a read as waiting, so that later writes go straight out.</summary>
    private async Task BeginReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await SendGatheredAsync(cancellationToken).ConfigureAwait(false);
            if (MarkReading()) return;
        }
    }

    private void BeginRead()
    {
        while (true)
        {
            SendGathered();
            if (MarkReading()) return;
        }
    }

    /// <summary>False if more was gathered meanwhile, which must go out first.</summary>
    private bool MarkReading()
    {
        lock (_gate)
        {
            if (_outputLength > 0) return false;
            _reading = true;
            return true;
        }
    }

    /// <summary>
    /// Whether the server closed or reset the connection while nothing was reading it. MailKit learns of
    /// a lost connection only by reading, so an idle client says it is connected for as long as nobody
    /// asks it anything: a primary cut while Observer waited for news showed as connected.
    /// </summary>
    public bool PeerGone
    {
        get
        {
            lock (_gate)
                if (_reading || _inputStart < _inputEnd) return false;
            try
            {
                // Readable with nothing to read: the end of the stream, or an error such as a reset.
                return inner.Socket.Poll(0, SelectMode.SelectRead) && inner.Socket.Available == 0;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return true;
            }
        }
    }

    private void EndRead()
    {
        lock (_gate) _reading = false;
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}

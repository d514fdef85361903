using System.Net.Sockets;

namespace Observer.MailKit;

/// <summary>
/// The TCP stream under MailKit, read in large pieces. MailKit reads its socket 4 KB at a time, so a 500 MB
/// copy cost about 260,000 reads, a large share of Observer's CPU; here each read fills a 64 KB buffer.
/// </summary>
/// <remarks>
/// Writes go straight through, unbuffered and unlocked: MailKit writes IDLE's DONE from a cancellation
/// callback while it is reading, and a write that waited behind another (a server that stopped reading)
/// would hang whoever cancelled. Below TLS, when MailKit adds it, so it saves on both.
/// </remarks>
internal sealed class ReadAheadSocketStream(NetworkStream inner) : Stream
{
    private const int BufferSize = 64 * 1024;

    private readonly byte[] _input = new byte[BufferSize];
    private int _inputStart;
    private int _inputEnd;

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
            if (buffer.Length >= BufferSize) return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            _inputStart = 0;
            _inputEnd = await inner.ReadAsync(_input, cancellationToken).ConfigureAwait(false);
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
            if (buffer.Length >= BufferSize) return inner.Read(buffer);
            _inputStart = 0;
            _inputEnd = inner.Read(_input);
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

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}

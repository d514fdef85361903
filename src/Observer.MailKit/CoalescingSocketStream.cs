using System.Net.Sockets;

namespace Observer.MailKit;

/// <summary>
/// The TCP stream under MailKit, read and written in large pieces. MailKit reads and writes its socket 4 KB
/// at a time, so a 500 MB copy cost about 400,000 system calls, a third of Observer's CPU. Reads here fill a
/// 64 KB buffer; writes wait in one until it is full, MailKit flushes, or anything is read: a reply is only
/// ever awaited through a read, so nothing MailKit wrote can be held back while it waits for the answer.
/// </summary>
/// <remarks>
/// Reads and writes may overlap (MailKit sends IDLE's DONE while it is reading), so each direction has its
/// own buffer, and the write buffer is guarded. Below TLS, when MailKit adds it, so it saves on both.
/// </remarks>
internal sealed class CoalescingSocketStream(NetworkStream inner) : Stream
{
    private const int BufferSize = 64 * 1024;

    private readonly byte[] _input = new byte[BufferSize];
    private int _inputStart;
    private int _inputEnd;

    private readonly byte[] _output = new byte[BufferSize];
    private int _outputLength;
    private readonly SemaphoreSlim _writing = new(1, 1);

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
            await FlushAsync(cancellationToken).ConfigureAwait(false);
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
            Flush();
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

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_outputLength + buffer.Length > BufferSize) await SendAsync(cancellationToken).ConfigureAwait(false);
            if (buffer.Length >= BufferSize) await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            else
            {
                buffer.CopyTo(_output.AsMemory(_outputLength));
                _outputLength += buffer.Length;
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _writing.Wait();
        try
        {
            if (_outputLength + buffer.Length > BufferSize) Send();
            if (buffer.Length >= BufferSize) inner.Write(buffer);
            else
            {
                buffer.CopyTo(_output.AsSpan(_outputLength));
                _outputLength += buffer.Length;
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await SendAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writing.Release();
        }
    }

    public override void Flush()
    {
        _writing.Wait();
        try
        {
            Send();
        }
        finally
        {
            _writing.Release();
        }
    }

    private async ValueTask SendAsync(CancellationToken cancellationToken)
    {
        if (_outputLength == 0) return;
        var length = _outputLength;
        _outputLength = 0;
        await inner.WriteAsync(_output.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
    }

    private void Send()
    {
        if (_outputLength == 0) return;
        var length = _outputLength;
        _outputLength = 0;
        inner.Write(_output, 0, length);
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            _writing.Dispose();
        }
        base.Dispose(disposing);
    }
}

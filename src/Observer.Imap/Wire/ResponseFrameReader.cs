namespace Observer.Imap;

/// <summary>
/// Reads complete responses (a line plus every {n} literal it announces) from a stream,
/// within <see cref="ImapLimits"/>. Large literals are written to the spool as they arrive.
/// </summary>
internal sealed class ResponseFrameReader
{
    private const int BufferSize = 64 * 1024;

    private readonly Stream _stream;
    private readonly ImapLimits _limits;
    private readonly ILiteralSpool _spool;
    private readonly byte[] _buffer = new byte[BufferSize];
    private int _position;
    private int _end;

    public ResponseFrameReader(Stream stream, ImapLimits limits, ILiteralSpool spool)
    {
        _stream = stream;
        _limits = limits;
        _spool = spool;
    }

    /// <summary>Called with the number of bytes each time data arrives, so a watchdog can measure progress.</summary>
    public Action<int>? BytesReceived { get; set; }

    /// <summary>Called with the size of each literal a line announces, before its bytes are read.</summary>
    public Action<long>? LiteralAnnounced { get; set; }

    /// <summary>True when bytes past the last frame are already buffered (STARTTLS must see none).</summary>
    public bool HasBufferedData => _position < _end;

    public async ValueTask<ResponseFrame> ReadAsync(CancellationToken cancellationToken)
    {
        var text = new GrowableBuffer(256);
        List<ImapLiteral>? literals = null;
        List<int>? markerEnds = null;
        try
        {
            var mayHaveLiterals = true;
            var first = true;
            while (true)
            {
                var lineStart = text.Count;
                await ReadLineAsync(text, cancellationToken).ConfigureAwait(false);
                if (first)
                {
                    // resp-text may legitimately end in "{5}", so status and continuation lines never announce literals.
                    mayHaveLiterals = !LineShapes.IsConditionOrContinuation(text.WrittenSpan);
                    first = false;
                }
                if (!mayHaveLiterals || !LineShapes.TryGetTrailingLiteral(text.WrittenSpan[lineStart..], out var size))
                    break;
                literals ??= [];
                markerEnds ??= [];
                if (literals.Count >= _limits.MaxLiteralsPerResponse)
                    throw new ImapProtocolException($"response has more than {_limits.MaxLiteralsPerResponse} literals");
                if (size > _limits.MaxLiteralSize)
                    throw new ImapProtocolException($"server announced a literal of {size} bytes, above the limit of {_limits.MaxLiteralSize}");
                markerEnds.Add(text.Count);
                LiteralAnnounced?.Invoke(size);
                literals.Add(await ReadLiteralAsync(size, cancellationToken).ConfigureAwait(false));
            }
            return new ResponseFrame(text.WrittenSpan.ToArray(), literals?.ToArray() ?? [], markerEnds?.ToArray() ?? []);
        }
        catch
        {
            if (literals is not null)
                foreach (var literal in literals) literal.Dispose();
            throw;
        }
    }

    private async ValueTask ReadLineAsync(GrowableBuffer text, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_position == _end) await FillAsync(cancellationToken).ConfigureAwait(false);
            var available = _buffer.AsSpan(_position, _end - _position);
            var newline = available.IndexOf((byte)'\n');
            var chunk = newline < 0 ? available : available[..newline];
            if (text.Count + chunk.Length > _limits.MaxResponseTextLength)
                throw new ImapProtocolException($"response text longer than {_limits.MaxResponseTextLength} bytes");
            text.Write(chunk);
            if (newline < 0)
            {
                _position = _end;
                continue;
            }
            _position += newline + 1;
            // Strip the CR of CRLF; a bare LF is tolerated as a line end.
            if (text.Count > 0 && text.WrittenSpan[^1] == (byte)'\r')
                text.RemoveLast();
            return;
        }
    }

    private async ValueTask<ImapLiteral> ReadLiteralAsync(long size, CancellationToken cancellationToken)
    {
        if (size <= _limits.InMemoryLiteralThreshold)
        {
            var bytes = new byte[size];
            var filled = 0;
            while (filled < size)
            {
                if (_position == _end) await FillAsync(cancellationToken).ConfigureAwait(false);
                var n = (int)Math.Min(size - filled, _end - _position);
                _buffer.AsSpan(_position, n).CopyTo(bytes.AsSpan(filled));
                _position += n;
                filled += n;
            }
            return ImapLiteral.FromBytes(bytes);
        }

        using var writer = _spool.Create(size);
        var remaining = size;
        while (remaining > 0)
        {
            if (_position == _end) await FillAsync(cancellationToken).ConfigureAwait(false);
            var n = (int)Math.Min(remaining, _end - _position);
            await writer.WriteAsync(_buffer.AsMemory(_position, n), cancellationToken).ConfigureAwait(false);
            _position += n;
            remaining -= n;
        }
        return writer.Complete();
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        _position = 0;
        _end = 0;
        var n = await _stream.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
        if (n == 0) throw new ImapConnectionException("server closed the connection");
        _end = n;
        BytesReceived?.Invoke(n);
    }
}

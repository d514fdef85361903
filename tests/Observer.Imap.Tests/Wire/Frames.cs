using System.Text;
using Observer.Imap;
using Observer.Mail;

namespace Observer.Imap.Tests;

/// <summary>Runs raw server bytes through the frame reader and parser, as the connection does.</summary>
internal static class Frames
{
    public static ResponseFrame Read(string raw, ImapLimits? limits = null, ILiteralSpool? spool = null) =>
        Read(Encoding.UTF8.GetBytes(raw), limits, spool);

    public static ResponseFrame Read(byte[] raw, ImapLimits? limits = null, ILiteralSpool? spool = null, int chunk = int.MaxValue)
    {
        var reader = new ResponseFrameReader(new TrickleStream(raw, chunk), limits ?? ImapLimits.Default, spool ?? TempFileLiteralSpool.Default);
        return reader.ReadAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
    }

    public static object Parse(string raw, bool utf8 = false)
    {
        using var frame = Read(raw.EndsWith('\n') ? raw : raw + "\r\n");
        return ResponseParser.Parse(frame, new ParseContext(ImapLimits.Default, utf8));
    }

    public static T Parse<T>(string raw, bool utf8 = false) => (T)Parse(raw, utf8);
}

/// <summary>A read-only stream that hands out at most <c>chunk</c> bytes per read, to split literals across reads.</summary>
internal sealed class TrickleStream(byte[] data, int chunk) : Stream
{
    private int _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => data.Length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public int Reads { get; private set; }

    public override int Read(byte[] buffer, int offset, int count)
    {
        Reads++;
        var n = Math.Min(Math.Min(count, chunk), data.Length - _position);
        Array.Copy(data, _position, buffer, offset, n);
        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Reads++;
        var n = Math.Min(Math.Min(buffer.Length, chunk), data.Length - _position);
        data.AsSpan(_position, n).CopyTo(buffer.Span);
        _position += n;
        return ValueTask.FromResult(n);
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

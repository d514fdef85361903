using System.Buffers;
using System.Collections.Concurrent;
using MimeKit;
using MimeKit.IO;

namespace Observer.MailKit;

/// <summary>
/// A message for MailKit's APPEND that goes out exactly as the bytes it was made from. A parsed and
/// re-serialised <see cref="MimeMessage"/> is not the primary's message: MimeKit rewrites bare line
/// ends, folds and re-encodes headers, and cannot load some messages at all, while a replica must
/// hold what the primary holds, byte for byte, MD5 and all.
/// </summary>
/// <remarks>
/// It leans on how MimeKit 4.18.2 writes a parsed message: its own headers (cleared here), a blank line
/// only if the parsed body had one (MimeKit's experimental parser records that; the stub has none),
/// then the body's content, which here is the original bytes. None of that is documented, so the
/// version is pinned exactly and VerbatimMessageTests checks the behaviour in CI.
/// </remarks>
public static class VerbatimMessage
{
    /// <summary>One header and no blank line after it: the parser's body then has no separator to write.</summary>
    private static readonly byte[] Stub = "X-Verbatim: 1"u8.ToArray();

    /// <summary>Makes the parser build the stub's body (text/plain by default) as a <see cref="VerbatimContent"/>.</summary>
    private static readonly ParserOptions Parsing = CreateParsing();

    private static ParserOptions CreateParsing()
    {
        var options = ParserOptions.Default.Clone();
        options.RegisterMimeType("text/plain", typeof(VerbatimContent));
        return options;
    }

    /// <summary>
    /// One parser per thread, set to the stub for each message: a new one allocated its buffers again for
    /// every message. Parsing never awaits, so the thread's parser is never shared.
    /// </summary>
    [ThreadStatic]
    private static ExperimentalMimeParser? t_parser;

    /// <summary>Messages given back by <see cref="Release"/>, ready for another body; at most <see cref="ReleasedLimit"/>.</summary>
    private static readonly ConcurrentQueue<MimeMessage> Released = new();

    private static int _releasedCount;

    /// <summary>Enough for several connections' MULTIAPPEND batches in flight.</summary>
    private const int ReleasedLimit = 512;

    private static readonly Func<Stream> NoContent = () => Stream.Null;

    /// <summary>A message of <paramref name="length"/> bytes, read from <paramref name="openRead"/> only when it is sent.</summary>
    public static MimeMessage From(long length, Func<Stream> openRead)
    {
        var message = TakeReleased() ?? Parse();
        ((VerbatimContent)message.Body!).Use(length, openRead);
        return message;
    }

    /// <summary>
    /// Gives back a message made by <see cref="From(long, Func{Stream})"/> once MailKit is done with it (its
    /// APPEND answered or failed), for the next one: a new <see cref="MimeMessage"/> with its address lists and
    /// their handlers was about 6 KB of garbage for each message copied. Its body is forgotten here.
    /// </summary>
    public static void Release(MimeMessage message)
    {
        if (message.Body is not VerbatimContent content || message.Headers.Count != 0) return;
        content.Use(0, NoContent);
        if (Interlocked.Increment(ref _releasedCount) > ReleasedLimit)
        {
            Interlocked.Decrement(ref _releasedCount);
            return;
        }
        Released.Enqueue(message);
    }

    private static MimeMessage? TakeReleased()
    {
        if (!Released.TryDequeue(out var message)) return null;
        Interlocked.Decrement(ref _releasedCount);
        return message;
    }

    private static MimeMessage Parse()
    {
        using var stub = new MemoryStream(Stub, writable: false);
        var parser = t_parser ??= new ExperimentalMimeParser(Parsing, Stream.Null, persistent: false);
        parser.SetStream(stub);
        var message = parser.ParseMessage();
        message.Headers.Clear();
        return message;
    }

    public static MimeMessage From(ReadOnlyMemory<byte> bytes) =>
        From(bytes.Length, () => new MemoryStream(bytes.ToArray(), writable: false));

    /// <summary>The whole message, headers included, as the content of a body that has no headers.</summary>
    private sealed class VerbatimContent : MimePart
    {
        private const int CopyBufferSize = 81920;

        private long _length;
        private Func<Stream> _openRead = NoContent;

        /// <summary>Called by the parser, through <see cref="ParserOptions.RegisterMimeType"/>.</summary>
        public VerbatimContent(MimeEntityConstructorArgs args) : base(args)
        {
        }

        public void Use(long length, Func<Stream> openRead)
        {
            _length = length;
            _openRead = openRead;
        }

        public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
        {
            // MailKit measures each literal before it sends the command: the length is known without reading.
            if (Measured(stream)) return;
            using var source = _openRead();
            CopyExactly(source, stream, cancellationToken);
        }

        public override async Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
        {
            if (Measured(stream)) return;
            var source = _openRead();
            var buffer = RentBuffer();
            try
            {
                await using (source.ConfigureAwait(false))
                {
                    long copied = 0;
                    int read;
                    while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                        copied += read;
                    }
                    CheckLength(copied);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        /// <summary>
        /// A pooled buffer no larger than the message (plus one byte, to see a longer one end): a new 80 KB
        /// array for each message was most of what a 5,000-message copy allocated (425 MB of 690).
        /// </summary>
        private byte[] RentBuffer() => ArrayPool<byte>.Shared.Rent((int)Math.Min(_length + 1, CopyBufferSize));

        private bool Measured(Stream stream)
        {
            if (stream is not MeasuringStream measuring) return false;
            measuring.SetLength(measuring.Position + _length);
            measuring.Seek(0, SeekOrigin.End);
            return true;
        }

        private void CopyExactly(Stream source, Stream destination, CancellationToken cancellationToken)
        {
            var buffer = RentBuffer();
            try
            {
                long copied = 0;
                int read;
                while ((read = source.Read(buffer, 0, buffer.Length)) > 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    destination.Write(buffer, 0, read);
                    copied += read;
                }
                CheckLength(copied);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        /// <summary>The literal's length was announced from <see cref="_length"/>: other bytes would break the connection.</summary>
        private void CheckLength(long copied)
        {
            if (copied != _length)
                throw new IOException($"the message changed while it was being sent: {copied} bytes read where {_length} were announced");
        }
    }
}

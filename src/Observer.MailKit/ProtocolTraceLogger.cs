using System.Buffers.Text;
using System.Globalization;
using System.Text;
using MailKit;
using Microsoft.Extensions.Logging;

namespace Observer.MailKit;

/// <summary>
/// MailKit's protocol log, written as Observer's protocol trace: one Trace line per line sent (C:) or
/// received (S:). Secrets that MailKit's detector finds in LOGIN and AUTHENTICATE are replaced by
/// "&lt;redacted&gt;", and the contents of literals (message bodies, a password sent as a literal) are only
/// counted, so neither passwords nor mail reach the log. It also keeps the last tagged completion,
/// which is where a refusal's response code is, and reads what MailKit drops: NOTIFY's overflow, and
/// STATUS responses that name their mailbox in UTF-8.
/// </summary>
public sealed partial class ProtocolTraceLogger(ILogger logger, string connection) : IProtocolLogger
{
    private const int MaxLine = 1000;
    private static readonly byte[] Masked = "<redacted>"u8.ToArray();

    private readonly Direction _client = new();
    private readonly Direction _server = new();

    public IAuthenticationSecretDetector? AuthenticationSecretDetector { get; set; }

    /// <summary>MailKit counts a literal's bytes in an int: nothing larger can be read, so a message over 2 GB is refused.</summary>
    public const long MaxLiteralSize = int.MaxValue;

    /// <summary>The first literal the server announced beyond <see cref="MaxLiteralSize"/>, if any.</summary>
    public long? OversizedLiteral { get; private set; }

    /// <summary>Why this connection cannot go on, in words for the admin, once the server announced an oversized literal.</summary>
    public string? OversizedLiteralProblem => OversizedLiteral is { } size
        ? $"announced a literal of {size} bytes, above the limit of {MaxLiteralSize} bytes (messages over 2 GB are not supported)"
        : null;

    private long _framingViolations;

    /// <summary>
    /// While set, every server literal must be followed by the rest of its FETCH answer: ")" or more items,
    /// never text. Anything else means bytes were lost or added in the stream, which MailKit's lenient
    /// parser would otherwise read past.
    /// </summary>
    public bool StrictLiteralTails { get; set; }

    /// <summary>Literals seen, under <see cref="StrictLiteralTails"/>, not followed by the end of their response.</summary>
    public long FramingViolations => Interlocked.Read(ref _framingViolations);

    /// <summary>The first line the server sent (its greeting, or what another service says in its place).</summary>
    public string? FirstServerLine { get; private set; }

    /// <summary>
    /// The server's last tagged completion line ("A00000007 NO [ALREADYEXISTS] …"), kept whether or not
    /// tracing is on: MailKit's exceptions drop the response code, and Observer acts on it.
    /// </summary>
    public string? LastCompletion { get; private set; }

    /// <summary>
    /// The server said it dropped notifications (RFC 5465's NOTIFICATIONOVERFLOW), which MailKit keeps to
    /// itself: whatever they said is unknown, and the watcher must look at everything again.
    /// </summary>
    public event Action? NotificationOverflow;

    /// <summary>An untagged STATUS that names its mailbox in raw UTF-8, which MailKit drops (see <see cref="Utf8StatusResponse"/>).</summary>
    public event Action<Utf8StatusResponse>? Utf8Status;

    private long _received;
    private long _credited;

    /// <summary>Bytes the server has sent.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>
    /// What earns a command more time (see <see cref="ResponseDeadline"/>): the server's complete lines,
    /// the bytes of its literals as they arrive, and every byte we sent, which it must read before it answers.
    /// A literal's announced size earns nothing by itself: a server that announced 300 MB and fell silent
    /// would otherwise hold the command for hours.
    /// </summary>
    public long Credited => Interlocked.Read(ref _credited);

    public void LogConnect(Uri uri) => LogConnected(logger, connection, uri.ToString());

    public void LogClient(byte[] buffer, int offset, int count)
    {
        Interlocked.Add(ref _credited, count);
        var secrets = AuthenticationSecretDetector?.DetectSecrets(buffer, offset, count) ?? [];
        var position = offset;
        foreach (var secret in secrets)
        {
            Feed(_client, "C", buffer.AsSpan(position, secret.StartIndex - position));
            // A secret sent as a literal is counted with the literal, not masked: the count stays true.
            Feed(_client, "C", _client.LiteralLeft > 0 ? buffer.AsSpan(secret.StartIndex, secret.Length) : Masked);
            position = secret.StartIndex + secret.Length;
        }
        Feed(_client, "C", buffer.AsSpan(position, offset + count - position));
    }

    public void LogServer(byte[] buffer, int offset, int count)
    {
        Interlocked.Add(ref _received, count);
        Feed(_server, "S", buffer.AsSpan(offset, count));
    }

    public void Dispose()
    {
        // Nothing is held open: every line went to the logger as it ended.
    }

    /// <remarks>
    /// Lines are kept as bytes and made into text only when someone reads them (the trace, a tagged
    /// completion, the greeting): a 5,000-message copy otherwise built about 30 MB of strings that, with
    /// tracing off, nobody read.
    /// </remarks>
    private void Feed(Direction direction, string side, ReadOnlySpan<byte> bytes)
    {
        var server = direction == _server;
        while (!bytes.IsEmpty)
        {
            if (direction.LiteralLeft > 0)
            {
                var skipped = (int)Math.Min(direction.LiteralLeft, bytes.Length);
                direction.LiteralLeft -= skipped;
                if (server) Interlocked.Add(ref _credited, skipped);
                if (direction.Capturing) direction.Capture(bytes[..skipped]);
                bytes = bytes[skipped..];
                if (direction.LiteralLeft == 0) direction.EndLiteral();
                continue;
            }
            var end = bytes.IndexOf((byte)'\n');
            var piece = end < 0 ? bytes : bytes[..end];
            direction.Extend(piece);
            if (end < 0) return;
            bytes = bytes[(end + 1)..];
            var ending = direction.Ending;
            if (server && direction.AfterLiteral && StrictLiteralTails && !EndsResponse(direction.TailFirst, ending))
                Interlocked.Increment(ref _framingViolations);
            if (server) Interlocked.Add(ref _credited, direction.TakeStretchLength() + 1);
            // From the line's true end: a MULTIAPPEND or a long FETCH answer outgrows what is kept for the log.
            if (LiteralAnnounced(ending) is { } size && size > 0)
            {
                if (server && size > MaxLiteralSize) OversizedLiteral ??= size;
                // A mailbox name, not mail: kept, so that a STATUS naming it in UTF-8 can be read.
                direction.BeginLiteral(size, capture: server && size <= Direction.MaxCaptured && !direction.AfterLiteral && Utf8StatusResponse.Begins(direction.Line));
                continue;
            }
            var line = direction.Line;
            if (server)
            {
                if (FirstServerLine is null) FirstServerLine = Text(line);
                if (IsCompletion(line)) LastCompletion = Text(line);
                if (StartsWithIgnoreCase(line, "* OK [NOTIFICATIONOVERFLOW"u8)) NotificationOverflow?.Invoke();
                if (Utf8Status is { } heard && Utf8StatusResponse.Parse(line, direction.Captured) is { } status) heard(status);
            }
            if (logger.IsEnabled(LogLevel.Trace)) LogLine(logger, connection, side, Text(line));
            direction.EndLine();
        }
    }

    private static string Text(ReadOnlySpan<byte> line) => Encoding.UTF8.GetString(line);

    private static bool StartsWithIgnoreCase(ReadOnlySpan<byte> line, ReadOnlySpan<byte> prefix) =>
        line.Length >= prefix.Length && Ascii.EqualsIgnoreCase(line[..prefix.Length], prefix);

    /// <summary>What may follow a FETCH answer's literal: ")" or more items (" UID 7)"), never text.</summary>
    private static bool EndsResponse(byte? first, ReadOnlySpan<byte> ending) =>
        !ending.IsEmpty && ending[^1] == (byte)')' && first is (byte)')' or (byte)' ';

    /// <summary>A tagged OK, NO or BAD: not untagged ("*") and not a continuation ("+").</summary>
    private static bool IsCompletion(ReadOnlySpan<byte> line)
    {
        if (line.IsEmpty || line[0] is (byte)'*' or (byte)'+') return false;
        var space = line.IndexOf((byte)' ');
        if (space <= 0) return false;
        var rest = line[(space + 1)..];
        return StartsWithIgnoreCase(rest, "OK"u8) || StartsWithIgnoreCase(rest, "NO"u8) || StartsWithIgnoreCase(rest, "BAD"u8);
    }

    /// <summary>The size in a line that ends with {N} or {N+}: that many bytes of literal follow.</summary>
    private static long? LiteralAnnounced(ReadOnlySpan<byte> ending)
    {
        if (ending.IsEmpty || ending[^1] != (byte)'}') return null;
        var open = ending.LastIndexOf((byte)'{');
        if (open < 0) return null;
        var digits = ending[(open + 1)..^1];
        if (!digits.IsEmpty && digits[^1] == (byte)'+') digits = digits[..^1];
        if (digits.IsEmpty || digits.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0) return null;
        return Utf8Parser.TryParse(digits, out long size, out var used) && used == digits.Length ? size : null;
    }

    /// <summary>
    /// One side's line so far, as bytes: the first <see cref="MaxLine"/> of it for the log, with each
    /// literal shown by its size, and the last few bytes since the last literal, where a literal is announced.
    /// </summary>
    private sealed class Direction
    {
        private const int EndingSize = 40;

        /// <summary>The longest literal kept whole: a mailbox name.</summary>
        public const int MaxCaptured = 1024;

        private readonly byte[] _captured = new byte[MaxCaptured];
        private int _capturedLength;

        /// <summary>Whether the literal being read is kept.</summary>
        public bool Capturing { get; private set; }

        /// <summary>The literal kept on this line, if any.</summary>
        public ReadOnlySpan<byte> Captured => _captured.AsSpan(0, _capturedLength);

        public void Capture(ReadOnlySpan<byte> bytes)
        {
            var room = Math.Min(bytes.Length, MaxCaptured - _capturedLength);
            bytes[..room].CopyTo(_captured.AsSpan(_capturedLength));
            _capturedLength += room;
        }

        private readonly byte[] _line = new byte[MaxLine];
        private readonly byte[] _ending = new byte[EndingSize];
        private int _lineLength;
        private int _endingLength;
        private long _stretchLength;

        public long LiteralLeft { get; set; }
        private long _literalSize;

        /// <summary>The line as kept for the log, without its CR.</summary>
        public ReadOnlySpan<byte> Line => TrimCr(_line.AsSpan(0, _lineLength));

        /// <summary>The last bytes of the line since its last literal, without the CR, whatever the log keeps of it.</summary>
        public ReadOnlySpan<byte> Ending => TrimCr(_ending.AsSpan(0, _endingLength));

        /// <summary>Whether the line so far has had a literal in it.</summary>
        public bool AfterLiteral { get; private set; }

        /// <summary>The first byte after the line's last literal.</summary>
        public byte? TailFirst { get; private set; }

        public void Extend(ReadOnlySpan<byte> piece)
        {
            if (piece.IsEmpty) return;
            _stretchLength += piece.Length;
            if (AfterLiteral && TailFirst is null) TailFirst = piece[0];
            Keep(piece);
            if (piece.Length >= EndingSize)
            {
                piece[^EndingSize..].CopyTo(_ending);
                _endingLength = EndingSize;
                return;
            }
            var keep = Math.Min(_endingLength, EndingSize - piece.Length);
            _ending.AsSpan(_endingLength - keep, keep).CopyTo(_ending);
            piece.CopyTo(_ending.AsSpan(keep));
            _endingLength = keep + piece.Length;
        }

        /// <summary>The bytes of the line since its start or its last literal, line end excluded; counting starts again.</summary>
        public long TakeStretchLength()
        {
            var length = _stretchLength;
            _stretchLength = 0;
            return length;
        }

        /// <summary>A literal of <paramref name="size"/> bytes begins: what follows it is a new stretch of the same line.</summary>
        public void BeginLiteral(long size, bool capture)
        {
            LiteralLeft = _literalSize = size;
            Capturing = capture;
            _lineLength = Line.Length;
            Keep(" "u8);
            _endingLength = 0;
            TailFirst = null;
        }

        public void EndLiteral()
        {
            Span<byte> shown = stackalloc byte[32];
            System.Text.Unicode.Utf8.TryWrite(shown, CultureInfo.InvariantCulture, $"[{_literalSize} bytes]", out var written);
            Keep(shown[..written]);
            AfterLiteral = true;
            Capturing = false;
        }

        public void EndLine()
        {
            _lineLength = 0;
            _endingLength = 0;
            _stretchLength = 0;
            AfterLiteral = false;
            TailFirst = null;
            Capturing = false;
            _capturedLength = 0;
        }

        private void Keep(ReadOnlySpan<byte> bytes)
        {
            var room = Math.Min(bytes.Length, MaxLine - _lineLength);
            bytes[..room].CopyTo(_line.AsSpan(_lineLength));
            _lineLength += room;
        }

        private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> bytes) =>
            !bytes.IsEmpty && bytes[^1] == (byte)'\r' ? bytes[..^1] : bytes;
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Trace, Message = "{Connection} {Side}: {Line}")]
    private static partial void LogLine(ILogger logger, string connection, string side, string line);

    [LoggerMessage(EventId = 1000, Level = LogLevel.Trace, Message = "{Connection} connected to {Uri}")]
    private static partial void LogConnected(ILogger logger, string connection, string uri);
}

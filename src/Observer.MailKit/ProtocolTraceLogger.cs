using System.Text;
using MailKit;
using Microsoft.Extensions.Logging;

namespace Observer.MailKit;

/// <summary>
/// MailKit's protocol log, written as Observer's protocol trace: one Trace line per line sent (C:) or
/// received (S:). Secrets that MailKit's detector finds in LOGIN and AUTHENTICATE are replaced by
/// "&lt;redacted&gt;", and the contents of literals (message bodies, a password sent as a literal) are only
/// counted, so neither passwords nor mail reach the log. It also keeps the last tagged completion,
/// which is where a refusal's response code is.
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

    private void Feed(Direction direction, string side, ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            if (direction.LiteralLeft > 0)
            {
                var skipped = (int)Math.Min(direction.LiteralLeft, bytes.Length);
                direction.LiteralLeft -= skipped;
                if (direction == _server) Interlocked.Add(ref _credited, skipped);
                bytes = bytes[skipped..];
                if (direction.LiteralLeft == 0)
                {
                    direction.Line.Append($"[{direction.LiteralSize} bytes]");
                    direction.AfterLiteral = true;
                }
                continue;
            }
            var end = bytes.IndexOf((byte)'\n');
            var piece = end < 0 ? bytes : bytes[..end];
            if (direction.Line.Length < MaxLine)
                direction.Line.Append(Encoding.UTF8.GetString(piece[..Math.Min(piece.Length, MaxLine - direction.Line.Length)]));
            direction.Extend(piece);
            if (end < 0) return;
            bytes = bytes[(end + 1)..];
            var line = direction.Line.ToString().TrimEnd('\r');
            var (ending, afterLiteral, tailFirst) = (direction.Ending.TrimEnd('\r'), direction.AfterLiteral, direction.TailFirst);
            direction.EndLine();
            if (direction == _server && afterLiteral && StrictLiteralTails && !EndsResponse(tailFirst, ending))
                Interlocked.Increment(ref _framingViolations);
            if (direction == _server) Interlocked.Add(ref _credited, line.Length + 2);
            // From the line's true end: a MULTIAPPEND or a long FETCH answer outgrows what is kept for the log.
            if (LiteralAnnounced(ending) is { } size && size > 0)
            {
                if (direction == _server && size > MaxLiteralSize) OversizedLiteral ??= size;
                direction.LiteralLeft = direction.LiteralSize = size;
                direction.Line.Append(line).Append(' ');
                direction.BeginLiteral();
                continue;
            }
            if (direction == _server) FirstServerLine ??= line;
            if (direction == _server && IsCompletion(line)) LastCompletion = line;
            if (direction == _server && line.StartsWith("* OK [NOTIFICATIONOVERFLOW", StringComparison.OrdinalIgnoreCase)) NotificationOverflow?.Invoke();
            if (logger.IsEnabled(LogLevel.Trace)) LogLine(logger, connection, side, line);
        }
    }

    /// <summary>What may follow a FETCH answer's literal: ")" or more items (" UID 7)"), never text.</summary>
    private static bool EndsResponse(char? first, string ending) => ending.EndsWith(')') && first is ')' or ' ';

    /// <summary>A tagged OK, NO or BAD: not untagged ("*") and not a continuation ("+").</summary>
    private static bool IsCompletion(string line)
    {
        if (line.Length == 0 || line[0] is '*' or '+') return false;
        var space = line.IndexOf(' ');
        if (space <= 0) return false;
        var rest = line.AsSpan(space + 1);
        return rest.StartsWith("OK", StringComparison.OrdinalIgnoreCase) || rest.StartsWith("NO", StringComparison.OrdinalIgnoreCase)
            || rest.StartsWith("BAD", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The size in a line that ends with {N} or {N+}: that many bytes of literal follow.</summary>
    private static long? LiteralAnnounced(string line)
    {
        if (!line.EndsWith('}')) return null;
        var open = line.LastIndexOf('{');
        if (open < 0) return null;
        var digits = line[(open + 1)..^1].TrimEnd('+');
        return long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var size) ? size : null;
    }

    private sealed class Direction
    {
        public StringBuilder Line { get; } = new();
        public long LiteralLeft { get; set; }
        public long LiteralSize { get; set; }

        /// <summary>The last characters of the line since its last literal, whatever the log keeps of it.</summary>
        public string Ending { get; private set; } = "";

        /// <summary>Whether the line so far has had a literal in it.</summary>
        public bool AfterLiteral { get; set; }

        /// <summary>The first character after the line's last literal.</summary>
        public char? TailFirst { get; private set; }

        private const int EndingSize = 40;

        public void Extend(ReadOnlySpan<byte> piece)
        {
            if (piece.IsEmpty) return;
            if (AfterLiteral && TailFirst is null) TailFirst = (char)piece[0];
            var text = Encoding.Latin1.GetString(piece.Length > EndingSize ? piece[^EndingSize..] : piece);
            Ending = Ending.Length + text.Length > EndingSize ? (Ending + text)[^EndingSize..] : Ending + text;
        }

        /// <summary>A literal begins: what follows it is a new stretch of the same line.</summary>
        public void BeginLiteral()
        {
            Ending = "";
            TailFirst = null;
        }

        public void EndLine()
        {
            Line.Clear();
            Ending = "";
            AfterLiteral = false;
            TailFirst = null;
        }
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Trace, Message = "{Connection} {Side}: {Line}")]
    private static partial void LogLine(ILogger logger, string connection, string side, string line);

    [LoggerMessage(EventId = 1000, Level = LogLevel.Trace, Message = "{Connection} connected to {Uri}")]
    private static partial void LogConnected(ILogger logger, string connection, string uri);
}

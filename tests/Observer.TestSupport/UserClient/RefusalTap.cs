using System.Globalization;
using System.Text;
using MailKit;

namespace Observer.TestSupport;

/// <summary>
/// MailKit's protocol log, reduced to what <see cref="UserImapClient"/> needs from it: the server's
/// refusals. MailKit's exceptions drop a refusal's response code ([NONEXISTENT], [EXPUNGEISSUED]…),
/// which tests look at, and it takes some refusals for success (CREATE's [ALREADYEXISTS]); the
/// server's own line says both. Literals (message bodies) are skipped, so a line inside a message
/// never counts.
/// </summary>
internal sealed class RefusalTap : IProtocolLogger
{
    private readonly StringBuilder _line = new();
    private long _literalLeft;
    private bool _continued;

    public IAuthenticationSecretDetector? AuthenticationSecretDetector { get; set; }

    /// <summary>The last tagged NO or BAD, such as "A00000007 NO [ALREADYEXISTS] Mailbox exists".</summary>
    public string? LastRefusal { get; private set; }

    /// <summary>How many tagged NO or BAD the server has sent: whether a command was refused, whatever MailKit made of it.</summary>
    public int Refusals { get; private set; }

    public void LogConnect(Uri uri)
    {
    }

    public void LogClient(byte[] buffer, int offset, int count)
    {
    }

    public void LogServer(byte[] buffer, int offset, int count)
    {
        var bytes = buffer.AsSpan(offset, count);
        while (!bytes.IsEmpty)
        {
            if (_literalLeft > 0)
            {
                var skipped = (int)Math.Min(_literalLeft, bytes.Length);
                _literalLeft -= skipped;
                bytes = bytes[skipped..];
                continue;
            }
            var end = bytes.IndexOf((byte)'\n');
            var piece = end < 0 ? bytes : bytes[..end];
            _line.Append(Encoding.UTF8.GetString(piece));
            if (end < 0) return;
            bytes = bytes[(end + 1)..];
            EndOfLine(_line.ToString().TrimEnd('\r'));
            _line.Clear();
        }
    }

    public void Dispose()
    {
    }

    /// <summary>A line that announces a literal goes on after it; only the first line of a response can be a refusal.</summary>
    private void EndOfLine(string line)
    {
        var continuation = _continued;
        if (LiteralAnnounced(line) is { } size)
        {
            _literalLeft = size;
            _continued = true;
            return;
        }
        _continued = false;
        if (continuation || !IsRefusal(line)) return;
        LastRefusal = line;
        Refusals++;
    }

    /// <summary>Tagged (not "*" nor "+"), with NO or BAD after the tag.</summary>
    private static bool IsRefusal(string line)
    {
        if (line.Length == 0 || line[0] is '*' or '+') return false;
        var parts = line.Split(' ', 3);
        return parts.Length >= 2 && (parts[1].Equals("NO", StringComparison.OrdinalIgnoreCase) || parts[1].Equals("BAD", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The size of a literal announced at the end of a line ({N}, {N+} or ~{N}), if any.</summary>
    private static long? LiteralAnnounced(string line)
    {
        if (!line.EndsWith('}')) return null;
        var open = line.LastIndexOf('{');
        if (open < 0) return null;
        return long.TryParse(line[(open + 1)..^1].TrimEnd('+'), NumberStyles.None, CultureInfo.InvariantCulture, out var size) ? size : null;
    }
}

using System.Buffers.Text;
using System.Text;

namespace Observer.MailKit;

/// <summary>
/// An untagged STATUS that names its mailbox in raw UTF-8 where IMAP4rev1 wants the modified UTF-7 of LIST
/// (RFC 3501 5.1.3), as Dovecot's NOTIFY does (2.3 sends the internal name). MailKit knows folders by the
/// names LIST gave them and drops such a STATUS without a word, so every folder with a non-ASCII name went
/// unheard; the protocol tap reads it instead.
/// </summary>
public sealed record Utf8StatusResponse(string Mailbox, uint? UidNext, ulong? HighestModSeq)
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The line begins an untagged STATUS: its mailbox name may come as a literal.</summary>
    public static bool Begins(ReadOnlySpan<byte> line) =>
        line.Length > 9 && System.Text.Ascii.EqualsIgnoreCase(line[..9], "* STATUS "u8);

    /// <param name="line">The whole response line, a literal shown in it by its size.</param>
    /// <param name="literalName">The bytes of the literal that named the mailbox, when one did.</param>
    /// <returns>Null unless the line is a STATUS naming its mailbox with bytes beyond ASCII, in valid UTF-8.</returns>
    public static Utf8StatusResponse? Parse(ReadOnlySpan<byte> line, ReadOnlySpan<byte> literalName)
    {
        if (!Begins(line)) return null;
        var rest = line[9..];
        ReadOnlySpan<byte> name;
        if (!literalName.IsEmpty) name = literalName;
        else if (rest[0] == (byte)'"') name = Unquoted(rest[1..]);
        else name = rest.IndexOf((byte)' ') is var space and > 0 ? rest[..space] : [];
        if (name.IndexOfAnyInRange((byte)0x80, (byte)0xFF) < 0) return null;
        string mailbox;
        try
        {
            mailbox = Strict.GetString(name);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
        var open = line.LastIndexOf((byte)'(');
        var close = line.LastIndexOf((byte)')');
        if (open < 0 || close < open) return null;
        uint? uidNext = null;
        ulong? modSeq = null;
        var items = line[(open + 1)..close];
        while (!items.IsEmpty)
        {
            var key = Word(ref items);
            var value = Word(ref items);
            if (Ascii.EqualsIgnoreCase(key, "UIDNEXT"u8) && Utf8Parser.TryParse(value, out uint next, out _)) uidNext = next;
            else if (Ascii.EqualsIgnoreCase(key, "HIGHESTMODSEQ"u8) && Utf8Parser.TryParse(value, out ulong highest, out _)) modSeq = highest;
        }
        return new Utf8StatusResponse(mailbox, uidNext, modSeq);
    }

    /// <summary>A quoted string's content, its escapes undone; what follows its opening quote goes in.</summary>
    private static byte[] Unquoted(ReadOnlySpan<byte> quoted)
    {
        var content = new List<byte>(quoted.Length);
        for (var i = 0; i < quoted.Length; i++)
        {
            if (quoted[i] == (byte)'"') return [.. content];
            if (quoted[i] == (byte)'\\' && i + 1 < quoted.Length) i++;
            content.Add(quoted[i]);
        }
        return [];
    }

    private static ReadOnlySpan<byte> Word(ref ReadOnlySpan<byte> items)
    {
        items = items.TrimStart((byte)' ');
        var end = items.IndexOf((byte)' ');
        var word = end < 0 ? items : items[..end];
        items = end < 0 ? [] : items[end..];
        return word;
    }
}

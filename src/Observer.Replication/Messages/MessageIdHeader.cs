using System.Text;

namespace Observer.Replication;

/// <summary>Reads the Message-ID from header lines, unfolding continuation lines.</summary>
public static class MessageIdHeader
{
    /// <summary>The Message-ID from the header of a whole message (only its first 64 KB are read).</summary>
    public static string? FromMessage(Observer.Mail.ImapLiteral message)
    {
        if (message.TryGetMemory(out var memory)) return Parse(memory.Span[..Math.Min(memory.Length, 64 * 1024)]);
        using var stream = message.OpenRead();
        var head = new byte[(int)Math.Min(message.Length, 64 * 1024)];
        stream.ReadExactly(head);
        return Parse(head);
    }

    /// <summary>The Message-ID among header lines; the scan stops at the blank line that ends the header.</summary>
    public static string? Parse(ReadOnlySpan<byte> header)
    {
        // Bytes, not a decoded string: only the header is looked at, and only one field is decoded.
        var rest = header;
        while (rest.Length > 0)
        {
            var line = NextLine(ref rest);
            if (line.IsEmpty) return null;
            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || !Ascii.EqualsIgnoreCase(line[..colon].TrimEnd(" \t"u8), "Message-ID"u8)) continue;
            var value = new StringBuilder(Encoding.UTF8.GetString(line[(colon + 1)..]));
            while (rest.Length > 0 && rest[0] is (byte)' ' or (byte)'\t') value.Append(Encoding.UTF8.GetString(NextLine(ref rest)));
            var id = value.ToString().Trim();
            return id.Length == 0 ? null : id;
        }
        return null;
    }

    /// <summary>Takes one line (without its CRLF or LF) off the front of <paramref name="rest"/>.</summary>
    private static ReadOnlySpan<byte> NextLine(ref ReadOnlySpan<byte> rest)
    {
        var end = rest.IndexOf((byte)'\n');
        var line = end < 0 ? rest : rest[..end];
        rest = end < 0 ? [] : rest[(end + 1)..];
        return line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;
    }
}

using System.Text;

namespace Observer.Replication;

/// <summary>Reads the Message-ID from header lines, unfolding continuation lines.</summary>
public static class MessageIdHeader
{
    /// <summary>The Message-ID from the header of a whole message (only its first 64 KB are read).</summary>
    public static string? FromMessage(Observer.Imap.ImapLiteral message)
    {
        if (message.TryGetMemory(out var memory)) return Parse(memory.Span[..Math.Min(memory.Length, 64 * 1024)]);
        using var stream = message.OpenRead();
        var head = new byte[(int)Math.Min(message.Length, 64 * 1024)];
        stream.ReadExactly(head);
        return Parse(head);
    }

    public static string? Parse(ReadOnlySpan<byte> header)
    {
        var text = Encoding.UTF8.GetString(header);
        var lines = text.Replace("\r\n", "\n").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Length == 0) break;
            var colon = line.IndexOf(':');
            if (colon <= 0 || !line[..colon].Trim().Equals("Message-ID", StringComparison.OrdinalIgnoreCase)) continue;
            var value = new StringBuilder(line[(colon + 1)..]);
            while (i + 1 < lines.Length && lines[i + 1].Length > 0 && lines[i + 1][0] is ' ' or '\t') value.Append(lines[++i]);
            var id = value.ToString().Trim();
            return id.Length == 0 ? null : id;
        }
        return null;
    }
}

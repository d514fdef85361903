using System.Runtime.InteropServices;
using System.Text;
using MimeKit;

namespace Observer.Replication;

/// <summary>
/// Reads the Message-ID of a message. MimeKit finds the field (folding, odd line endings, a header that
/// never ends); the value is kept as Observer has always stored it: the raw text, unfolded and trimmed,
/// with no decoding, so that identifiers recorded before are still equal to the ones read now.
/// </summary>
public static class MessageIdHeader
{
    /// <summary>Only the header is wanted: a message that never ends its header is read no further than this.</summary>
    private const int MostHeaderRead = 64 * 1024;

    /// <summary>The Message-ID from the header of a whole message.</summary>
    public static string? FromMessage(Observer.Mail.ImapLiteral message)
    {
        if (message.TryGetMemory(out var memory) && MemoryMarshal.TryGetArray(memory, out var bytes))
        {
            using var inMemory = new MemoryStream(bytes.Array!, bytes.Offset, Math.Min(bytes.Count, MostHeaderRead), writable: false);
            return Parse(inMemory);
        }
        using var stream = message.OpenRead();
        var head = new byte[(int)Math.Min(message.Length, MostHeaderRead)];
        stream.ReadExactly(head);
        return Parse(head);
    }

    /// <summary>The Message-ID among header lines; the scan stops at the blank line that ends the header.</summary>
    public static string? Parse(ReadOnlySpan<byte> header)
    {
        using var stream = new MemoryStream(header.ToArray(), writable: false);
        return Parse(stream);
    }

    private static string? Parse(Stream header)
    {
        HeaderList headers;
        try
        {
            headers = HeaderList.Load(ParserOptions.Default, header);
        }
        catch (FormatException)
        {
            return null;
        }
        if (headers.FirstOrDefault(h => h.Id == HeaderId.MessageId) is not { } field) return null;
        var id = Encoding.UTF8.GetString(field.RawValue).Replace("\r\n", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal).Trim();
        return id.Length == 0 ? null : id;
    }
}

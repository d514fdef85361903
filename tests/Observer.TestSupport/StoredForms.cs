using System.Security.Cryptography;

namespace Observer.TestSupport;

/// <summary>
/// The test's own account of how each kind of server, as the replica, may store a message other
/// than byte for byte. A replica copy in one of these forms of the primary's message is what that
/// server can hold; any other difference is a wrong copy. Written apart from observer's own list,
/// from what the servers were seen to do:
/// <list type="bullet">
/// <item>Dovecot saves a NUL byte as 0x80.</item>
/// <item>Courier keeps lines with LF and serves them with CRLF: a bare LF, or a missing final line
/// end, comes back as CRLF.</item>
/// <item>Cyrus refuses bare newlines and NUL bytes (so a copy has to be sent with CRLF line ends and
/// without NUL) and replaces 8-bit bytes in the header with 'X'.</item>
/// </list>
/// </summary>
public static class StoredForms
{
    /// <summary>True when a message has anything some server stores differently; only then are forms worth computing.</summary>
    public static bool IsOdd(ReadOnlySpan<byte> raw)
    {
        if (raw.Length < 2 || raw[^2] != '\r' || raw[^1] != '\n') return true;
        var inHeader = true;
        for (var i = 0; i < raw.Length; i++)
        {
            var b = raw[i];
            if (b == 0 || (b == '\n' && (i == 0 || raw[i - 1] != '\r')) || (b == '\r' && (i + 1 == raw.Length || raw[i + 1] != '\n'))) return true;
            if (inHeader && b > 0x7F) return true;
            if (inHeader && b == '\n' && i + 2 < raw.Length && raw[i + 1] == '\r' && raw[i + 2] == '\n') inHeader = false;
        }
        return false;
    }

    /// <summary>The MD5s (upper-case hex) of the forms in which a replica of <paramref name="kind"/> may hold <paramref name="raw"/>, other than raw itself.</summary>
    public static IReadOnlyList<string> Md5s(ServerKind kind, byte[] raw)
    {
        IEnumerable<byte[]> forms = kind switch
        {
            ServerKind.Dovecot => [NulAs0x80(raw)],
            // In a session that enabled UTF8=ACCEPT (as observer's does), Courier drops a bare CR instead.
            ServerKind.Courier => [CrlfLines(raw, dropNul: false), CrlfLines(raw, dropNul: false, dropBareCr: true)],
            ServerKind.Cyrus => [HeaderBytesAsX(raw), HeaderBytesAsX(CrlfLines(raw, dropNul: true)), CrlfLines(raw, dropNul: true)],
            _ => [],
        };
        return forms.Where(f => !f.AsSpan().SequenceEqual(raw)).Select(f => Convert.ToHexString(MD5.HashData(f))).Distinct().ToList();
    }

    private static byte[] NulAs0x80(byte[] raw) => raw.Select(b => b == 0 ? (byte)0x80 : b).ToArray();

    /// <summary>Every line ended by CRLF (a bare LF or CR becomes CRLF), with a final CRLF.</summary>
    private static byte[] CrlfLines(byte[] raw, bool dropNul, bool dropBareCr = false)
    {
        var output = new List<byte>(raw.Length + 64);
        for (var i = 0; i < raw.Length; i++)
        {
            var b = raw[i];
            if (dropBareCr && b == '\r' && (i + 1 >= raw.Length || raw[i + 1] != '\n')) continue;
            if (b == '\r' || b == '\n')
            {
                output.Add((byte)'\r');
                output.Add((byte)'\n');
                if (b == '\r' && i + 1 < raw.Length && raw[i + 1] == '\n') i++;
            }
            else if (b != 0 || !dropNul)
            {
                output.Add(b);
            }
        }
        if (output.Count < 2 || output[^2] != '\r' || output[^1] != '\n') output.AddRange("\r\n"u8.ToArray());
        return [.. output];
    }

    /// <summary>Bytes above 0x7F before the first empty line replaced by 'X' (Cyrus's munge8bit).</summary>
    private static byte[] HeaderBytesAsX(byte[] raw)
    {
        var bytes = raw.ToArray();
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == '\n' && i + 2 < bytes.Length && bytes[i + 1] == '\r' && bytes[i + 2] == '\n') break;
            if (bytes[i] == '\n' && i + 1 < bytes.Length && bytes[i + 1] == '\n') break;
            if (bytes[i] > 0x7F) bytes[i] = (byte)'X';
        }
        return bytes;
    }
}

using System.Security.Cryptography;

namespace Observer.Replication;

/// <summary>
/// The forms in which some servers store a message other than byte for byte. Courier keeps lines
/// with LF and serves them with CRLF (so a bare LF or a missing final newline comes back changed);
/// Cyrus replaces 8-bit bytes in headers with 'X' (munge8bit, its default) and refuses bare newlines
/// and NUL bytes outright; Dovecot saves a NUL byte as 0x80. A copy that matches one of these forms of the original is what that
/// server can hold: it is kept and reported as altered, never taken for a corrupt copy and never
/// uploaded again and again. Any other difference is corruption.
/// </summary>
public static class StoredForms
{
    /// <summary>Messages larger than this are not re-shaped in memory: such a copy that differs stays a failure.</summary>
    public const long MaxBytes = 64L * 1024 * 1024;

    /// <summary>The MD5 of every altered form of <paramref name="raw"/>, each with a name for the report.</summary>
    public static IReadOnlyList<(string Form, byte[] Md5)> AlteredMd5s(ReadOnlySpan<byte> raw)
    {
        var forms = new List<(string, byte[])>();
        var bytes = raw.ToArray();
        foreach (var lines in new[] { LineEndings.Kept, LineEndings.Crlf, LineEndings.CrlfWithoutBareCr })
        {
            foreach (var nul in new[] { NulBytes.Kept, NulBytes.Dropped, NulBytes.Replaced })
            {
                foreach (var munge in new[] { false, true })
                {
                    var form = bytes;
                    if (lines != LineEndings.Kept || nul == NulBytes.Dropped)
                        form = Canonical(form, dropNul: nul == NulBytes.Dropped, lineEndings: lines != LineEndings.Kept, dropBareCr: lines == LineEndings.CrlfWithoutBareCr);
                    if (nul == NulBytes.Replaced) form = ReplaceNul(form);
                    if (munge) form = MungeHeader8Bit(form);
                    var name = string.Join(", ", new[] { lines != LineEndings.Kept ? "line endings" : null, nul == NulBytes.Kept ? null : "NUL bytes", munge ? "8-bit header bytes" : null }.OfType<string>());
                    Add(forms, name, form, raw);
                }
            }
        }
        return forms;
    }

    private enum LineEndings
    {
        Kept,

        /// <summary>A bare CR or LF becomes CRLF, and a final CRLF is added.</summary>
        Crlf,

        /// <summary>The same, but a bare CR is dropped (Courier, in a session that enabled UTF8=ACCEPT).</summary>
        CrlfWithoutBareCr,
    }

    private enum NulBytes
    {
        Kept,
        Dropped,

        /// <summary>Dovecot stores a NUL as 0x80.</summary>
        Replaced,
    }

    /// <summary>Every NUL byte replaced by 0x80, as Dovecot saves them.</summary>
    public static byte[] ReplaceNul(ReadOnlySpan<byte> raw)
    {
        var bytes = raw.ToArray();
        for (var i = 0; i < bytes.Length; i++) if (bytes[i] == 0) bytes[i] = 0x80;
        return bytes;
    }

    /// <summary>The name of the form of <paramref name="raw"/> whose MD5 is <paramref name="md5"/>, or null when none is.</summary>
    public static string? Which(ReadOnlySpan<byte> raw, byte[] md5)
    {
        foreach (var (form, hash) in AlteredMd5s(raw))
            if (hash.AsSpan().SequenceEqual(md5)) return form;
        return null;
    }

    /// <summary>
    /// What a strict server accepts: every line ended by CRLF (a bare CR or LF becomes CRLF), a final
    /// CRLF, and with <paramref name="dropNul"/> no NUL bytes.
    /// </summary>
    public static byte[] Canonical(ReadOnlySpan<byte> raw, bool dropNul, bool lineEndings = true, bool dropBareCr = false)
    {
        if (!lineEndings)
        {
            var kept = new List<byte>(raw.Length);
            foreach (var b in raw) if (b != 0) kept.Add(b);
            return [.. kept];
        }
        var output = new MemoryStream(raw.Length + raw.Length / 32 + 2);
        for (var i = 0; i < raw.Length; i++)
        {
            var b = raw[i];
            if (b == (byte)'\r')
            {
                var crlf = i + 1 < raw.Length && raw[i + 1] == (byte)'\n';
                if (crlf || !dropBareCr)
                {
                    output.WriteByte((byte)'\r');
                    output.WriteByte((byte)'\n');
                }
                if (crlf) i++;
            }
            else if (b == (byte)'\n')
            {
                output.WriteByte((byte)'\r');
                output.WriteByte((byte)'\n');
            }
            else if (b != 0 || !dropNul)
            {
                output.WriteByte(b);
            }
        }
        var bytes = output.ToArray();
        if (bytes.Length >= 2 && bytes[^2] == (byte)'\r' && bytes[^1] == (byte)'\n') return bytes;
        return [.. bytes, (byte)'\r', (byte)'\n'];
    }

    /// <summary>Every byte above 0x7F in the header section (up to the first empty line) replaced by 'X'.</summary>
    public static byte[] MungeHeader8Bit(ReadOnlySpan<byte> raw)
    {
        var bytes = raw.ToArray();
        var lineStart = true;
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            if (lineStart && (b == (byte)'\n' || (b == (byte)'\r' && i + 1 < bytes.Length && bytes[i + 1] == (byte)'\n'))) break;
            if (b > 0x7F) bytes[i] = (byte)'X';
            lineStart = b == (byte)'\n';
        }
        return bytes;
    }

    private static void Add(List<(string, byte[])> forms, string name, byte[] form, ReadOnlySpan<byte> raw)
    {
        if (form.AsSpan().SequenceEqual(raw)) return;
        var md5 = MD5.HashData(form);
        if (forms.Any(f => f.Item2.AsSpan().SequenceEqual(md5))) return;
        forms.Add((name, md5));
    }
}

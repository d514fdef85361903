using System.Text;

namespace Observer.Imap;

/// <summary>The modified UTF-7 of RFC 3501 §5.1.3, used for mailbox names unless UTF8=ACCEPT is on.</summary>
public static class ModifiedUtf7
{
    public static string Encode(string name)
    {
        var sb = new StringBuilder(name.Length);
        var i = 0;
        while (i < name.Length)
        {
            var c = name[i];
            if (c is >= (char)0x20 and <= (char)0x7E)
            {
                sb.Append(c == '&' ? "&-" : c.ToString());
                i++;
                continue;
            }
            var start = i;
            while (i < name.Length && name[i] is < (char)0x20 or > (char)0x7E) i++;
            var utf16 = Encoding.BigEndianUnicode.GetBytes(name[start..i]);
            sb.Append('&').Append(Convert.ToBase64String(utf16).TrimEnd('=').Replace('/', ',')).Append('-');
        }
        return sb.ToString();
    }

    public static bool TryDecode(string encoded, out string name)
    {
        name = encoded;
        var sb = new StringBuilder(encoded.Length);
        var i = 0;
        while (i < encoded.Length)
        {
            var c = encoded[i];
            if (c > (char)0x7E) return false;
            if (c != '&')
            {
                sb.Append(c);
                i++;
                continue;
            }
            var end = encoded.IndexOf('-', i + 1);
            if (end < 0) return false;
            if (end == i + 1)
            {
                sb.Append('&');
                i = end + 1;
                continue;
            }
            var b64 = encoded[(i + 1)..end].Replace(',', '/');
            if (b64.Any(ch => !(char.IsAsciiLetterOrDigit(ch) || ch is '+' or '/'))) return false;
            var padded = b64.PadRight((b64.Length + 3) / 4 * 4, '=');
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(padded);
            }
            catch (FormatException)
            {
                return false;
            }
            if (bytes.Length % 2 != 0) return false;
            sb.Append(Encoding.BigEndianUnicode.GetString(bytes));
            i = end + 1;
        }
        name = sb.ToString();
        return true;
    }

    public static string Decode(string encoded) =>
        TryDecode(encoded, out var name) ? name : throw new FormatException($"not modified UTF-7: '{encoded}'");
}

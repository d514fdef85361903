using System.Text;
using Observer.Mail;

namespace Observer.TestSupport;

/// <summary>
/// New mail of every size and shape, from a seeded random: mostly ordinary, some large (up to about
/// 1 MB), some a few bytes long, and some with bytes servers treat differently: bare LF line ends, a
/// NUL byte, raw 8-bit headers, no final CRLF, very long lines. A server may refuse or rewrite such a
/// message; whatever the primary then holds is what the replica must hold.
/// </summary>
public static class MessageShapes
{
    private static readonly string[] Words = ("the quarterly report is attached please review before friday meeting notes budget server "
        + "migration replication backup invoice travel schedule lunch project deadline update status weekly summary").Split(' ');

    private static readonly string[] Subjects = ["Re: budget", "Fwd: travel plans", "Rechnung Nr. 4711", "Weekly status", "hello"];

    /// <summary>A new message, unique by its token (and its Message-ID when it has one).</summary>
    public static (AppendMessage Message, string Shape) Next(Random random, string token, MessageFlags? flags)
    {
        var roll = random.Next(100);
        var (bytes, shape) = roll switch
        {
            < 3 => (Tiny(token), "tiny"),
            < 7 => (Ordinary(random, token, random.Next(300_000, 1_000_000), "\r\n"), "large"),
            < 17 => (Ordinary(random, token, random.Next(20_000, 300_000), "\r\n"), "medium"),
            < 21 => (Ordinary(random, token, random.Next(200, 4_000), "\n"), "bare-lf"),
            < 24 => (WithNul(random, token), "nul"),
            < 28 => (EightBitHeaders(random, token), "8bit-headers"),
            < 32 => (NoFinalCrlf(random, token), "no-final-crlf"),
            < 35 => (LongLine(random, token), "long-line"),
            < 38 => (Ordinary(random, token, random.Next(200, 4_000), "\r\n", messageId: false), "no-message-id"),
            _ => (Ordinary(random, token, random.Next(200, 8_000), "\r\n"), "small"),
        };
        var date = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.FromHours(random.Next(-8, 10)))
            .AddSeconds(random.NextInt64(0, 6L * 365 * 24 * 3600));
        return (new AppendMessage(ImapLiteral.FromBytes(bytes), flags, date), $"{shape} {bytes.Length} B");
    }

    private static string Headers(Random random, string token, bool messageId = true, string eol = "\r\n") =>
        $"From: Alice Example <alice@example.com>{eol}To: Bob <bob@example.org>{eol}"
        + $"Subject: {Subjects[random.Next(Subjects.Length)]} {token}{eol}"
        + $"Date: Tue, 3 Mar 2026 10:{random.Next(60):00}:{random.Next(60):00} +0100{eol}"
        + (messageId ? $"Message-ID: <{token}@convergence.example.com>{eol}" : "")
        + $"MIME-Version: 1.0{eol}Content-Type: text/plain; charset=utf-8{eol}{eol}";

    private static byte[] Ordinary(Random random, string token, int size, string eol, bool messageId = true)
    {
        var sb = new StringBuilder(Headers(random, token, messageId, eol));
        var line = new StringBuilder();
        while (sb.Length < size)
        {
            line.Clear();
            while (line.Length < 70) line.Append(Words[random.Next(Words.Length)]).Append(' ');
            sb.Append(line).Append(eol);
        }
        sb.Append("-- ").Append(token).Append(eol);
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>A few bytes: a header, nothing else.</summary>
    private static byte[] Tiny(string token) => Encoding.ASCII.GetBytes($"X-T: {token}\r\n\r\n");

    private static byte[] WithNul(Random random, string token)
    {
        var bytes = Ordinary(random, token, random.Next(300, 2_000), "\r\n");
        var headerEnd = Encoding.ASCII.GetString(bytes).IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        bytes[random.Next(headerEnd, bytes.Length - 10)] = 0;
        return bytes;
    }

    /// <summary>Raw UTF-8 in headers, as some mailers send without RFC 2047 encoding.</summary>
    private static byte[] EightBitHeaders(Random random, string token) =>
        Encoding.UTF8.GetBytes($"From: J\u00fcrgen M\u00fcller <jm@example.de>\r\nTo: Zo\u00eb <zoe@example.org>\r\n"
            + $"Subject: Gr\u00fc\u00dfe aus K\u00f6ln \u2615 {token}\r\nMessage-ID: <{token}@convergence.example.com>\r\n"
            + $"Date: Wed, 4 Mar 2026 09:{random.Next(60):00}:00 +0100\r\n\r\nSch\u00f6ne Gr\u00fc\u00dfe, \u65c5\u884c\r\n");

    private static byte[] NoFinalCrlf(Random random, string token)
    {
        var text = Encoding.UTF8.GetString(Ordinary(random, token, random.Next(200, 2_000), "\r\n"));
        return Encoding.UTF8.GetBytes(text.TrimEnd('\r', '\n'));
    }

    private static byte[] LongLine(Random random, string token) =>
        Encoding.UTF8.GetBytes(Headers(random, token) + new string('y', random.Next(2_000, 20_000)) + $" {token}\r\n");
}

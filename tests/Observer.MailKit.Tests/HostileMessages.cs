using System.Text;

namespace Observer.MailKit.Tests;

/// <summary>
/// Messages that a parse-and-write round trip would alter, each as the bytes a primary may hold:
/// what a byte-exact copy must carry untouched.
/// </summary>
internal static class HostileMessages
{
    private const string Head = "From: a@example.com\r\nTo: b@example.org\r\nSubject: {0}\r\nMessage-ID: <{0}@hostile.example>\r\n";

    public static IReadOnlyList<(string Name, byte[] Bytes)> All { get; } =
    [
        ("ordinary", Text(string.Format(Head, "ordinary") + "\r\nHello.\r\n")),
        ("bare-lf", Text(string.Format(Head, "bare-lf").Replace("\r\n", "\n") + "\nline one\nline two\n")),
        ("bare-cr", Text(string.Format(Head, "bare-cr") + "\r\nline one\rline two\r\n")),
        ("mixed-line-ends", Text(string.Format(Head, "mixed") + "\r\none\ntwo\r\nthree\rfour\r\n")),
        ("nul-byte", Bytes(string.Format(Head, "nul") + "\r\nbefore", [0], "after\r\n")),
        ("raw-8bit-headers", Encoding.UTF8.GetBytes("From: J\u00fcrgen <j@example.de>\r\nSubject: Gr\u00fc\u00dfe \u2615\r\nMessage-ID: <8bit@hostile.example>\r\n\r\nSch\u00f6n.\r\n")),
        ("latin1-header", Bytes("Subject: ", [0xE9, 0xE8], "\r\nMessage-ID: <latin1@hostile.example>\r\n\r\nbody\r\n")),
        ("no-blank-line", Text(string.Format(Head, "no-blank-line") + "this line is not a header\r\n")),
        ("header-only", Text(string.Format(Head, "header-only") + "\r\n")),
        ("no-final-crlf", Text(string.Format(Head, "no-final-crlf") + "\r\nends without a line end")),
        ("long-line", Text(string.Format(Head, "long-line") + "\r\n" + new string('x', 20_000) + "\r\n")),
        ("long-unfoldable-header", Text("X-Long: " + new string('y', 5_000) + "\r\n" + string.Format(Head, "long-header") + "\r\nbody\r\n")),
        ("duplicate-headers", Text(string.Format(Head, "dup") + "Subject: again\r\nMessage-ID: <second@hostile.example>\r\n\r\nbody\r\n")),
        ("folded-odd-whitespace", Text("Subject:   spaced \t\r\n\t folded\r\n \r\nMessage-ID: <fold@hostile.example>\r\n\r\nbody\r\n")),
        ("from-line", Text("From someone@example.com Tue Mar  3 10:00:00 2026\r\n" + string.Format(Head, "from-line") + "\r\n>From the start\r\nFrom again\r\n")),
        ("broken-mime", Text(string.Format(Head, "broken-mime") + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\npart\r\n--b2--\r\n")),
        ("bad-base64", Text(string.Format(Head, "bad-base64") + "Content-Transfer-Encoding: base64\r\n\r\n!!!not base64@@@\r\n")),
        ("trailing-spaces", Text(string.Format(Head, "trailing") + "\r\nline   \r\n\t\r\n   \r\n")),
        ("large-attachment", Large(3 * 1024 * 1024)),
    ];

    private static byte[] Text(string s) => Encoding.UTF8.GetBytes(s);

    private static byte[] Bytes(string before, byte[] raw, string after) =>
        [.. Encoding.UTF8.GetBytes(before), .. raw, .. Encoding.UTF8.GetBytes(after)];

    private static byte[] Large(int size)
    {
        var random = new Random(9);
        var payload = new byte[size];
        random.NextBytes(payload);
        var sb = new StringBuilder(string.Format(Head, "large"));
        sb.Append("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"xyz\"\r\n\r\n--xyz\r\nContent-Type: application/octet-stream\r\n");
        sb.Append("Content-Transfer-Encoding: base64\r\n\r\n");
        var encoded = Convert.ToBase64String(payload, Base64FormattingOptions.InsertLineBreaks);
        sb.Append(encoded).Append("\r\n--xyz--\r\n");
        return Text(sb.ToString());
    }
}

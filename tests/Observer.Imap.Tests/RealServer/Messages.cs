using System.Text;

namespace Observer.Imap.Tests;

internal static class Messages
{
    public static string Text(string subject, string? messageId = null, string body = "Hello.") =>
        $"From: a@example.com\r\nTo: b@example.com\r\nSubject: {subject}\r\nMessage-ID: {messageId ?? $"<{Guid.NewGuid():N}@example.com>"}\r\n"
        + $"Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\n{body}\r\n";

    public static ImapLiteral Literal(string subject, string? messageId = null) => ImapLiteral.FromString(Text(subject, messageId));

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}

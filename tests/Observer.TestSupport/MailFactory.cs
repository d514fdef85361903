using System.Text;
using Observer.Mail;

namespace Observer.TestSupport;

/// <summary>Realistic test messages with unique Message-IDs.</summary>
public static class MailFactory
{
    private static int _counter;

    public static string Text(string subject, string? body = null, string? messageId = null)
    {
        var n = Interlocked.Increment(ref _counter);
        return $"From: Alice Example <alice@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: {subject}\r\n"
            + $"Date: Tue, 3 Mar 2026 10:{n % 60:00}:00 +0100\r\nMessage-ID: {messageId ?? $"<{Guid.NewGuid():N}.{n}@example.com>"}\r\n"
            + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            + (body ?? $"Message {n}: {new string('x', n % 200)}\r\n");
    }

    public static AppendMessage Message(string subject, MessageFlags? flags = null, DateTimeOffset? date = null, string? messageId = null) =>
        new(ImapLiteral.FromBytes(Encoding.UTF8.GetBytes(Text(subject, messageId: messageId))), flags,
            date ?? new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.FromHours(1)).AddMinutes(Interlocked.Increment(ref _counter)));

    /// <summary>Appends <paramref name="count"/> messages to a folder, creating it if needed, in batches.</summary>
    public static async Task FillAsync(UserImapClient client, string folder, int count, string prefix = "msg")
    {
        if (!folder.Equals("INBOX", StringComparison.OrdinalIgnoreCase) && !(await client.ListAsync()).Any(m => m.Name == folder))
            await client.CreateAsync(folder);
        for (var start = 0; start < count; start += 100)
        {
            var batch = Enumerable.Range(start, Math.Min(100, count - start))
                .Select(i => Message($"{prefix} {i}", i % 3 == 0 ? new MessageFlags(["\\Seen"]) : i % 7 == 0 ? new MessageFlags(["$Important", "\\Flagged"]) : null))
                .ToList();
            await client.MultiAppendAsync(folder, batch);
        }
    }
}

using MimeKit;

namespace Observer.Replication;

/// <summary>Who sent a message and its subject, decoded by MimeKit, for a report a person reads (the split-brain report).</summary>
public static class MessageHeaders
{
    /// <summary>Longer subjects are cut here: a report line, not the message.</summary>
    private const int MostShown = 120;

    public static (string? Sender, string? Subject) Read(Observer.Mail.ImapLiteral message)
    {
        using var head = MessageIdHeader.OpenHead(message);
        HeaderList headers;
        try
        {
            headers = HeaderList.Load(head);
        }
        catch (FormatException)
        {
            return (null, null);
        }
        return (Shown(headers[HeaderId.From]), Shown(headers[HeaderId.Subject]));
    }

    private static string? Shown(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var line = string.Join(' ', value.Split((char[])['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries)).Trim();
        return line.Length <= MostShown ? line : line[..MostShown] + "…";
    }
}

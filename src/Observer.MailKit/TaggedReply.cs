using Observer.Mail;

namespace Observer.MailKit;

/// <summary>The response code and text of a tagged completion line: "A00000007 NO [ALREADYEXISTS] Mailbox exists".</summary>
internal static class TaggedReply
{
    public static (ResponseCode? Code, string? Text) Parse(string? line)
    {
        if (line is null) return (null, null);
        // Tag, then condition, then the rest.
        var parts = line.Split(' ', 3);
        if (parts.Length < 3) return (null, null);
        var rest = parts[2];
        if (!rest.StartsWith('[')) return (null, rest);
        var close = rest.IndexOf(']');
        if (close < 0) return (null, rest);
        var inside = rest[1..close];
        var name = inside.Split(' ', 2)[0].ToUpperInvariant();
        var text = rest[(close + 1)..].TrimStart();
        // The enum's names are the codes' own, without their hyphens (OVERQUOTA, ALREADYEXISTS, SERVERBUG…).
        var kind = Enum.TryParse<ResponseCodeKind>(name.Replace("-", "", StringComparison.Ordinal), ignoreCase: true, out var k) && k != ResponseCodeKind.Other
            ? k
            : ResponseCodeKind.Other;
        ResponseCode code = kind == ResponseCodeKind.Other
            ? new OtherResponseCode(name, inside.Length > name.Length ? inside[(name.Length + 1)..] : null)
            : new ResponseCode(kind, name);
        return (code, text);
    }
}

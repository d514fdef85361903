namespace Observer.Imap;

internal static class StatusParser
{
    public static MailboxStatusResponse Parse(ResponseCursor cursor, ParseContext context)
    {
        var name = MailboxNameCodec.Decode(cursor.ReadAString(), context.Utf8Enabled);
        cursor.SkipSpaces();
        var status = new MailboxStatus();
        cursor.ReadList(() =>
        {
            var item = cursor.ReadAtom().ToUpperInvariant();
            cursor.ExpectSpace();
            status = item switch
            {
                "MESSAGES" => status with { Messages = cursor.ReadNumber() },
                "RECENT" => status with { Recent = cursor.ReadNumber() },
                "UIDNEXT" => status with { UidNext = cursor.ReadNumber() },
                "UIDVALIDITY" => status with { UidValidity = cursor.ReadNumber() },
                "UNSEEN" => status with { Unseen = cursor.ReadNumber() },
                "HIGHESTMODSEQ" => status with { HighestModSeq = cursor.ReadNumber64() },
                "SIZE" => status with { Size = cursor.ReadNumber64() },
                _ => Skip(cursor, status),
            };
        });
        cursor.ExpectEnd();
        return new MailboxStatusResponse(name, status);
    }

    private static MailboxStatus Skip(ResponseCursor cursor, MailboxStatus status)
    {
        cursor.SkipValue();
        return status;
    }
}

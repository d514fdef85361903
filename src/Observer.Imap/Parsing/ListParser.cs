namespace Observer.Imap;

/// <summary>Reads "(attributes) delimiter name [extended-data]" of LIST and LSUB (RFC 3501, 5258, 5465).</summary>
internal static class ListParser
{
    public static MailboxListEntry ParseEntry(ResponseCursor cursor, ParseContext context)
    {
        var attributes = new HashSet<string>(cursor.ReadFlagList(), StringComparer.OrdinalIgnoreCase);
        cursor.ExpectSpace();
        char? delimiter = null;
        if (!cursor.TryReadNil())
        {
            var d = cursor.ReadString();
            if (d.Length != 1) throw cursor.Error("hierarchy delimiter must be one character");
            delimiter = d[0];
        }
        cursor.ExpectSpace();
        var name = MailboxNameCodec.Decode(cursor.ReadAString(), context.Utf8Enabled);
        string? oldName = null;
        if (cursor.SkipSpaces() && cursor.IsNext('('))
        {
            cursor.ReadList(() =>
            {
                var tag = cursor.ReadAString();
                cursor.ExpectSpace();
                if (tag.Equals("OLDNAME", StringComparison.OrdinalIgnoreCase))
                    cursor.ReadList(() => oldName = MailboxNameCodec.Decode(cursor.ReadAString(), context.Utf8Enabled));
                else
                    cursor.SkipValue();
            });
        }
        cursor.ExpectEnd();
        return new MailboxListEntry(name, delimiter, attributes, oldName);
    }
}

namespace Observer.Imap;

/// <summary>Reads the parenthesised items of a FETCH response, in any order.</summary>
internal static class FetchParser
{
    public static MessageData ParseItems(ResponseCursor cursor)
    {
        var data = new MessageData();
        try
        {
            cursor.ReadList(() => ReadItem(cursor, data));
            cursor.ExpectEnd();
            return data;
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    private static void ReadItem(ResponseCursor cursor, MessageData data)
    {
        var name = cursor.ReadItemName().ToUpperInvariant();
        string? section = null;
        if (cursor.IsNext('['))
        {
            section = cursor.ReadBracketed().ToUpperInvariant();
            if (cursor.TrySkip('<'))
            {
                cursor.ReadNumber64();
                cursor.Expect('>');
            }
        }
        cursor.ExpectSpace();
        switch (name)
        {
            case "UID":
                data.Uid = cursor.ReadNumber();
                break;
            case "FLAGS":
                data.Flags = new MessageFlags(cursor.ReadFlagList());
                break;
            case "INTERNALDATE":
                var text = cursor.ReadString();
                data.InternalDate = ImapDate.TryParse(text, out var date) ? date : throw cursor.Error("malformed INTERNALDATE");
                break;
            case "RFC822.SIZE":
                data.Size = (long)cursor.ReadNumber64();
                break;
            case "MODSEQ":
                cursor.ReadList(() => data.ModSeq = cursor.ReadNumber64());
                break;
            case "BODY" or "BINARY" when section is "":
            case "RFC822":
                data.Body?.Dispose();
                data.Body = cursor.ReadNStringAsLiteral() ?? ImapLiteral.FromBytes(Array.Empty<byte>());
                break;
            case "BODY" when section is not null && section.StartsWith("HEADER.FIELDS", StringComparison.Ordinal):
            {
                using var literal = cursor.ReadNStringAsLiteral();
                data.HeaderFields = literal?.ToArray() ?? [];
                break;
            }
            default:
                cursor.SkipValue();
                break;
        }
    }
}

namespace Observer.Imap;

internal static class SearchParser
{
    /// <summary>* SEARCH 2 5 9 [(MODSEQ 917162500)]</summary>
    public static SearchResponse ParseSearch(ResponseCursor cursor)
    {
        var numbers = new List<uint>();
        ulong? modseq = null;
        while (cursor.SkipSpaces() && !cursor.AtEnd)
        {
            if (cursor.IsNext('('))
            {
                cursor.ReadList(() =>
                {
                    if (!cursor.ReadAtom().Equals("MODSEQ", StringComparison.OrdinalIgnoreCase)) throw cursor.Error("expected MODSEQ");
                    cursor.ExpectSpace();
                    modseq = cursor.ReadNumber64();
                });
                continue;
            }
            numbers.Add(cursor.ReadNumber());
        }
        cursor.ExpectEnd();
        return new SearchResponse(numbers, modseq);
    }

    /// <summary>* ESEARCH (TAG "A282") UID ALL 1:3,5 COUNT 4 MIN 1 MAX 5 MODSEQ 12 (RFC 4731, 7162)</summary>
    public static ESearchResponse ParseESearch(ResponseCursor cursor)
    {
        string? tag = null;
        var isUid = false;
        UidSet? all = null;
        uint? count = null, min = null, max = null;
        ulong? modseq = null;
        cursor.SkipSpaces();
        if (cursor.IsNext('('))
        {
            cursor.ReadList(() =>
            {
                var name = cursor.ReadAtom();
                cursor.ExpectSpace();
                if (name.Equals("TAG", StringComparison.OrdinalIgnoreCase)) tag = cursor.ReadString();
                else cursor.SkipValue();
            });
        }
        while (cursor.SkipSpaces() && !cursor.AtEnd)
        {
            var name = cursor.ReadAtom().ToUpperInvariant();
            if (name == "UID")
            {
                isUid = true;
                continue;
            }
            cursor.ExpectSpace();
            switch (name)
            {
                case "ALL": all = ResponseParser.ReadSequenceSet(cursor); break;
                case "COUNT": count = cursor.ReadNumber(); break;
                case "MIN": min = cursor.ReadNumber(); break;
                case "MAX": max = cursor.ReadNumber(); break;
                case "MODSEQ": modseq = cursor.ReadNumber64(); break;
                default: cursor.SkipValue(); break;
            }
        }
        return new ESearchResponse(tag, isUid, all, count, min, max, modseq);
    }
}

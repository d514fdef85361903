namespace Observer.Imap;

/// <summary>Turns a complete frame into a continuation, a tagged completion, or typed untagged data.</summary>
internal static class ResponseParser
{
    /// <summary>Returns a <see cref="ContinuationResponse"/>, <see cref="TaggedResponse"/> or <see cref="UntaggedResponse"/>.</summary>
    public static object Parse(ResponseFrame frame, ParseContext context)
    {
        var cursor = new ResponseCursor(frame, context.Limits);
        if (cursor.TrySkip('+'))
        {
            cursor.SkipSpaces();
            return new ContinuationResponse(cursor.ReadRemainingText());
        }
        if (cursor.TrySkip('*'))
        {
            cursor.ExpectSpace();
            return ParseUntagged(cursor, context);
        }
        var tag = cursor.ReadAtom();
        cursor.ExpectSpace();
        var (condition, code, text) = ParseCondition(cursor);
        if (condition is not (ResponseCondition.Ok or ResponseCondition.No or ResponseCondition.Bad))
            throw cursor.Error("tagged response must be OK, NO or BAD");
        return new TaggedResponse(tag, condition, code, text);
    }

    private static UntaggedResponse ParseUntagged(ResponseCursor cursor, ParseContext context)
    {
        if (cursor.IsNextDigit())
        {
            var number = cursor.ReadNumber();
            cursor.ExpectSpace();
            var keyword = cursor.ReadAtom().ToUpperInvariant();
            switch (keyword)
            {
                case "EXISTS":
                    cursor.ExpectEnd();
                    return new ExistsResponse(number);
                case "RECENT":
                    cursor.ExpectEnd();
                    return new RecentResponse(number);
                case "EXPUNGE":
                    cursor.ExpectEnd();
                    if (number == 0) throw cursor.Error("EXPUNGE of message 0");
                    return new ExpungeResponse(number);
                case "FETCH":
                    if (number == 0) throw cursor.Error("FETCH of message 0");
                    cursor.ExpectSpace();
                    return new FetchResponse(number, FetchParser.ParseItems(cursor));
                default:
                    return new UnknownUntaggedResponse(keyword);
            }
        }

        var word = cursor.ReadAtom().ToUpperInvariant();
        switch (word)
        {
            case "OK" or "NO" or "BAD" or "BYE" or "PREAUTH":
            {
                var condition = ToCondition(word);
                cursor.SkipSpaces();
                var (code, text) = ParseCodeAndText(cursor);
                return new UntaggedConditionResponse(condition, code, text);
            }
            case "CAPABILITY":
                return new CapabilityResponse(ReadAtomsToEnd(cursor));
            case "ENABLED":
                return new EnabledResponse(ReadAtomsToEnd(cursor));
            case "FLAGS":
                cursor.SkipSpaces();
                var flags = new MessageFlags(cursor.ReadFlagList());
                cursor.ExpectEnd();
                return new FlagsResponse(flags);
            case "LIST" or "LSUB":
                cursor.ExpectSpace();
                return new ListResponse(ListParser.ParseEntry(cursor, context), word == "LSUB");
            case "STATUS":
                cursor.ExpectSpace();
                return StatusParser.Parse(cursor, context);
            case "SEARCH":
                return SearchParser.ParseSearch(cursor);
            case "ESEARCH":
                return SearchParser.ParseESearch(cursor);
            case "VANISHED":
                return ParseVanished(cursor);
            case "NAMESPACE":
                cursor.ExpectSpace();
                return ParseNamespace(cursor);
            default:
                return new UnknownUntaggedResponse(word);
        }
    }

    public static (ResponseCondition Condition, ResponseCode? Code, string Text) ParseCondition(ResponseCursor cursor)
    {
        var condition = ToCondition(cursor.ReadAtom().ToUpperInvariant());
        cursor.SkipSpaces();
        var (code, text) = ParseCodeAndText(cursor);
        return (condition, code, text);
    }

    private static (ResponseCode? Code, string Text) ParseCodeAndText(ResponseCursor cursor)
    {
        ResponseCode? code = null;
        if (cursor.IsNext('['))
        {
            code = ResponseCodeParser.Parse(cursor);
            cursor.SkipSpaces();
        }
        return (code, cursor.ReadRemainingText());
    }

    private static ResponseCondition ToCondition(string word) => word switch
    {
        "OK" => ResponseCondition.Ok,
        "NO" => ResponseCondition.No,
        "BAD" => ResponseCondition.Bad,
        "BYE" => ResponseCondition.Bye,
        "PREAUTH" => ResponseCondition.PreAuth,
        _ => throw new ImapProtocolException($"malformed server response: unknown condition '{Printable(word)}'"),
    };

    private static List<string> ReadAtomsToEnd(ResponseCursor cursor)
    {
        var atoms = new List<string>();
        while (cursor.SkipSpaces() && !cursor.AtEnd) atoms.Add(cursor.ReadAtom(stopAtBracket: false));
        cursor.ExpectEnd();
        return atoms;
    }

    private static VanishedResponse ParseVanished(ResponseCursor cursor)
    {
        cursor.ExpectSpace();
        var earlier = false;
        if (cursor.IsNext('('))
        {
            cursor.ReadList(() =>
            {
                if (cursor.ReadAtom().Equals("EARLIER", StringComparison.OrdinalIgnoreCase)) earlier = true;
            });
            cursor.ExpectSpace();
        }
        var set = ReadSequenceSet(cursor);
        cursor.ExpectEnd();
        return new VanishedResponse(earlier, set);
    }

    public static UidSet ReadSequenceSet(ResponseCursor cursor)
    {
        var text = cursor.ReadAtom();
        return UidSet.TryParse(text, out var set) ? set : throw cursor.Error("malformed sequence set");
    }

    private static NamespaceResponse ParseNamespace(ResponseCursor cursor)
    {
        string? prefix = null;
        char? delimiter = null;
        if (!cursor.TryReadNil())
        {
            var first = true;
            cursor.ReadList(() =>
            {
                cursor.ReadList(() =>
                {
                    var p = cursor.ReadString();
                    cursor.ExpectSpace();
                    var d = cursor.ReadNString();
                    while (cursor.SkipSpaces() && !cursor.IsNext(')')) cursor.SkipValue();
                    if (!first) return;
                    prefix = p;
                    delimiter = string.IsNullOrEmpty(d) ? null : d[0];
                    first = false;
                });
            });
        }
        // The "other users" and "shared" namespaces do not concern a one-account replicator.
        while (cursor.SkipSpaces() && !cursor.AtEnd) cursor.SkipValue();
        return new NamespaceResponse(prefix, delimiter);
    }

    internal static string Printable(string s) =>
        new(s.Take(40).Select(c => c is >= ' ' and < (char)0x7F ? c : '?').ToArray());
}

namespace Observer.Imap;

internal static class ResponseCodeParser
{
    private static readonly Dictionary<string, ResponseCodeKind> Simple = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ALERT"] = ResponseCodeKind.Alert,
        ["NOMODSEQ"] = ResponseCodeKind.NoModSeq,
        ["READ-ONLY"] = ResponseCodeKind.ReadOnly,
        ["READ-WRITE"] = ResponseCodeKind.ReadWrite,
        ["TRYCREATE"] = ResponseCodeKind.TryCreate,
        ["CLOSED"] = ResponseCodeKind.Closed,
        ["OVERQUOTA"] = ResponseCodeKind.OverQuota,
        ["ALREADYEXISTS"] = ResponseCodeKind.AlreadyExists,
        ["NONEXISTENT"] = ResponseCodeKind.NonExistent,
        ["UIDNOTSTICKY"] = ResponseCodeKind.UidNotSticky,
        ["PARSE"] = ResponseCodeKind.Parse,
        ["LIMIT"] = ResponseCodeKind.Limit,
        ["SERVERBUG"] = ResponseCodeKind.ServerBug,
        ["UNAVAILABLE"] = ResponseCodeKind.Unavailable,
        ["AUTHENTICATIONFAILED"] = ResponseCodeKind.AuthenticationFailed,
        ["CANNOT"] = ResponseCodeKind.Cannot,
        ["INUSE"] = ResponseCodeKind.InUse,
        ["NOPERM"] = ResponseCodeKind.NoPerm,
    };

    /// <summary>Parses "[NAME args]" at the cursor, leaving it just past the ']'.</summary>
    public static ResponseCode Parse(ResponseCursor cursor)
    {
        cursor.Expect('[');
        var name = cursor.ReadAtom().ToUpperInvariant();
        ResponseCode code;
        switch (name)
        {
            case "CAPABILITY":
            {
                var caps = new List<string>();
                while (cursor.SkipSpaces() && !cursor.IsNext(']')) caps.Add(cursor.ReadAtom());
                code = new CapabilityCode(caps);
                break;
            }
            case "PERMANENTFLAGS":
            {
                cursor.SkipSpaces();
                var flags = cursor.ReadFlagList();
                var wildcard = flags.Remove("\\*");
                code = new PermanentFlagsCode(new MessageFlags(flags), wildcard);
                break;
            }
            case "UIDVALIDITY":
                code = new UidValidityCode(ReadArgumentNumber(cursor));
                break;
            case "UIDNEXT":
                code = new UidNextCode(ReadArgumentNumber(cursor));
                break;
            case "UNSEEN":
                code = new UnseenCode(ReadArgumentNumber(cursor));
                break;
            case "HIGHESTMODSEQ":
                cursor.ExpectSpace();
                code = new HighestModSeqCode(cursor.ReadNumber64());
                break;
            case "APPENDUID":
            {
                var validity = ReadArgumentNumber(cursor);
                cursor.ExpectSpace();
                code = new AppendUidCode(validity, ResponseParser.ReadSequenceSet(cursor));
                break;
            }
            case "COPYUID":
            {
                var validity = ReadArgumentNumber(cursor);
                cursor.ExpectSpace();
                var source = ResponseParser.ReadSequenceSet(cursor);
                cursor.ExpectSpace();
                var destination = ResponseParser.ReadSequenceSet(cursor);
                if (source.Count != destination.Count) throw cursor.Error("COPYUID sets differ in size");
                code = new CopyUidCode(validity, source, destination);
                break;
            }
            case "MODIFIED":
                cursor.ExpectSpace();
                code = new ModifiedCode(ResponseParser.ReadSequenceSet(cursor));
                break;
            default:
                if (Simple.TryGetValue(name, out var kind))
                {
                    code = new ResponseCode(kind, name);
                    cursor.ReadUntilBracket();
                }
                else
                {
                    cursor.SkipSpaces();
                    var args = cursor.ReadUntilBracket();
                    code = new OtherResponseCode(name, args.Length == 0 ? null : args);
                }
                break;
        }
        cursor.SkipSpaces();
        cursor.Expect(']');
        return code;
    }

    private static uint ReadArgumentNumber(ResponseCursor cursor)
    {
        cursor.ExpectSpace();
        return cursor.ReadNumber();
    }
}

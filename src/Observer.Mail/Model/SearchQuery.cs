namespace Observer.Mail;

/// <summary>UID SEARCH criteria, built from parts so that string values are quoted or sent as literals correctly.</summary>
public sealed class SearchQuery
{
    private readonly List<(string Keyword, string? Value)> _parts = [];

    private SearchQuery() { }

    public static SearchQuery All => new SearchQuery().Add("ALL");

    public static SearchQuery Uids(UidSet uids) => new SearchQuery().Add("UID " + uids);

    /// <summary>HEADER name value: messages whose header contains the value (substring match, RFC 3501).</summary>
    public static SearchQuery Header(string name, string value) => new SearchQuery().Add("HEADER " + name, value);

    /// <summary>MODSEQ n (RFC 7162): messages changed at or after mod-sequence n.</summary>
    public static SearchQuery ModSeqSince(ulong modSeq) => new SearchQuery().Add("MODSEQ " + modSeq);

    public static SearchQuery Deleted => new SearchQuery().Add("DELETED");

    public SearchQuery And(SearchQuery other)
    {
        var combined = new SearchQuery();
        combined._parts.AddRange(_parts);
        combined._parts.AddRange(other._parts);
        return combined;
    }

    private SearchQuery Add(string keyword, string? value = null)
    {
        _parts.Add((keyword, value));
        return this;
    }

    /// <summary>The criteria, in order: a keyword with its arguments, and a string value to be quoted, if any.</summary>
    public IReadOnlyList<(string Keyword, string? Value)> Terms => _parts;

    /// <summary>A value outside ASCII: the search must be sent as UTF-8.</summary>
    public bool NeedsUtf8 => _parts.Any(p => p.Value?.Any(c => c > 0x7E) == true);
}

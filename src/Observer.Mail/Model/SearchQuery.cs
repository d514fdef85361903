namespace Observer.Mail;

/// <summary>UID SEARCH criteria, in the engine's words: keywords with their arguments, and string values kept apart for the session to send.</summary>
public sealed class SearchQuery
{
    private readonly List<(string Keyword, string? Value)> _parts = [];

    private SearchQuery() { }

    public static SearchQuery All => new SearchQuery().Add("ALL");

    public static SearchQuery Uids(UidSet uids) => new SearchQuery().Add("UID " + uids);

    /// <summary>HEADER name value: messages whose header contains the value (substring match, RFC 3501).</summary>
    public static SearchQuery Header(string name, string value) => new SearchQuery().Add("HEADER " + name, value);

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
}

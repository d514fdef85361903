namespace Observer.Imap;

internal static class CommandResults
{
    /// <summary>Turns a tagged NO or BAD into a typed error that keeps the server's code and words.</summary>
    public static TaggedResponse EnsureOk(this TaggedResponse response, string verb)
    {
        if (response.Condition == ResponseCondition.Ok) return response;
        throw new ImapCommandException(verb, response.Condition, response.Code, response.Text);
    }
}

namespace Observer.Imap;

internal static class SearchCommands
{
    public static async Task<UidSet> UidSearchAsync(ImapClient client, SearchQuery query, CancellationToken cancellationToken)
    {
        var command = client.Command("UID SEARCH");
        var esearch = client.Capabilities.ESearch;
        if (esearch) command.Text(" RETURN (ALL)");
        if (query.NeedsUtf8 && !client.Utf8Enabled) command.Text(" CHARSET UTF-8");
        command.Sp();
        var terms = query.Terms;
        for (var i = 0; i < terms.Count; i++)
        {
            if (i > 0) command.Sp();
            command.Text(terms[i].Keyword);
            if (terms[i].Value is { } value) command.Sp().Quoted(value);
        }

        if (esearch)
        {
            var results = new CollectingHandler<ESearchResponse>();
            await client.ExecuteOkAsync(command, results, cancellationToken).ConfigureAwait(false);
            var all = results.Items.Where(r => r.All is not null).SelectMany(r => r.All!.Expand());
            return UidSet.FromUids(all);
        }
        var search = new CollectingHandler<SearchResponse>();
        await client.ExecuteOkAsync(command, search, cancellationToken).ConfigureAwait(false);
        return UidSet.FromUids(search.Items.SelectMany(r => r.Numbers));
    }
}

namespace Observer.Imap;

internal static class SessionCommands
{
    public static async Task<IReadOnlySet<string>> EnableAsync(ImapClient client, IEnumerable<string> wanted, CancellationToken cancellationToken)
    {
        var offered = wanted.Where(c => client.Capabilities.Has(c) || (c.Equals("UTF8=ACCEPT", StringComparison.OrdinalIgnoreCase) && client.Capabilities.Utf8Accept)).ToList();
        if (!client.Capabilities.Enable || offered.Count == 0) return new HashSet<string>();
        var command = client.Command("ENABLE");
        foreach (var capability in offered) command.Sp().Text(capability);
        var enabled = new CollectingHandler<EnabledResponse>();
        await client.ExecuteOkAsync(command, enabled, cancellationToken).ConfigureAwait(false);
        var result = new HashSet<string>(enabled.Items.SelectMany(e => e.Capabilities), StringComparer.OrdinalIgnoreCase);
        client.MarkEnabled(result);
        return result;
    }

    public static async Task LogoutAsync(ImapClient client, CancellationToken cancellationToken)
    {
        if (!client.IsConnected) return;
        client.Connection.ExpectClose();
        try
        {
            await client.ExecuteAsync(client.Command("LOGOUT"), new CollectingHandler<UntaggedConditionResponse>(r => r.Condition == ResponseCondition.Bye), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (ImapConnectionException)
        {
            // The server may close before its tagged OK; the session is over either way.
        }
        await client.DisposeAsync().ConfigureAwait(false);
    }
}

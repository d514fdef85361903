namespace Observer.Imap;

internal static class NotifyCommands
{
    public static async Task SetAsync(ImapClient client, NotifyRequest request, CancellationToken cancellationToken)
    {
        if (!client.Capabilities.Notify) throw new NotSupportedException($"{client.Options.Host} has no NOTIFY");
        var command = client.Command("NOTIFY").Text(" SET");
        if (request.InitialStatus) command.Text(" STATUS");
        foreach (var filter in request.Filters)
        {
            command.Text(" (").Text(MailboxSpec(filter.Mailboxes));
            if (filter.Mailboxes is NotifyMailboxes.Subtree or NotifyMailboxes.Mailboxes)
            {
                command.Text(" (");
                for (var i = 0; i < filter.Names.Count; i++)
                {
                    if (i > 0) command.Sp();
                    command.Mailbox(filter.Names[i]);
                }
                command.Text(")");
            }
            if (filter.Events.Count == 0)
            {
                command.Text(" NONE)");
                continue;
            }
            command.Text(" (");
            for (var i = 0; i < filter.Events.Count; i++)
            {
                if (i > 0) command.Sp();
                command.Text(filter.Events[i].ToString());
                if (filter.Events[i] == NotifyEvent.MessageNew && filter.MessageNewFetch is { } fetch) command.Text(" (").Text(fetch).Text(")");
            }
            command.Text("))");
        }
        await client.ExecuteOkAsync(command, null, cancellationToken).ConfigureAwait(false);
    }

    public static async Task NoneAsync(ImapClient client, CancellationToken cancellationToken) =>
        await client.ExecuteOkAsync(client.Command("NOTIFY").Text(" NONE"), null, cancellationToken).ConfigureAwait(false);

    private static string MailboxSpec(NotifyMailboxes spec) => spec switch
    {
        NotifyMailboxes.Selected => "SELECTED",
        NotifyMailboxes.SelectedDelayed => "SELECTED-DELAYED",
        NotifyMailboxes.Personal => "PERSONAL",
        NotifyMailboxes.Inboxes => "INBOXES",
        NotifyMailboxes.Subscribed => "SUBSCRIBED",
        NotifyMailboxes.Subtree => "SUBTREE",
        _ => "MAILBOXES",
    };
}

namespace Observer.Imap;

internal static class AppendCommands
{
    public static async Task<AppendResult> AppendAsync(ImapClient client, string mailbox, IReadOnlyList<AppendMessage> messages, CancellationToken cancellationToken)
    {
        var command = client.Command("APPEND").Sp().Mailbox(mailbox);
        foreach (var message in messages)
        {
            var flags = message.Flags?.WithoutRecent();
            if (flags is { Count: > 0 }) command.Sp().Flags(flags);
            if (message.InternalDate is { } date) command.Sp().Text("\"" + ImapDate.Format(date) + "\"");
            command.Sp().Literal(message.Content);
        }
        var done = await client.ExecuteOkAsync(command, null, cancellationToken).ConfigureAwait(false);
        return done.Code is AppendUidCode uid ? new AppendResult(uid.UidValidity, uid.Uids) : new AppendResult(null, null);
    }

    public static async Task<AppendResult> MultiAppendAsync(ImapClient client, string mailbox, IReadOnlyList<AppendMessage> messages, CancellationToken cancellationToken)
    {
        if (messages.Count == 0) return new AppendResult(null, UidSet.Empty);
        if (client.Capabilities.MultiAppend || messages.Count == 1)
            return await AppendAsync(client, mailbox, messages, cancellationToken).ConfigureAwait(false);

        // Without MULTIAPPEND the batch is not atomic: each message is its own APPEND, in order.
        uint? validity = null;
        var uids = new List<uint>();
        var complete = true;
        foreach (var message in messages)
        {
            var result = await AppendAsync(client, mailbox, [message], cancellationToken).ConfigureAwait(false);
            validity ??= result.UidValidity;
            if (result.Uids is null) complete = false;
            else uids.AddRange(result.Uids.Expand());
        }
        return new AppendResult(validity, complete ? UidSet.FromUids(uids) : null);
    }
}

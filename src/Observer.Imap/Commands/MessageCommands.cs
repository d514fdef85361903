namespace Observer.Imap;

/// <summary>UID EXPUNGE, EXPUNGE, UID COPY and UID MOVE.</summary>
internal static class MessageCommands
{
    public static async Task<UidSet> UidExpungeAsync(ImapClient client, UidSet uids, CancellationToken cancellationToken)
    {
        if (!client.Capabilities.UidPlus)
            throw new NotSupportedException($"{client.Options.Host} has no UIDPLUS, so it cannot UID EXPUNGE");
        var vanished = new CollectingHandler<VanishedResponse>(r => !r.Earlier);
        var expunged = new CollectingHandler<ExpungeResponse>();
        await client.ExecuteOkAsync(client.Command("UID EXPUNGE").Sp().Text(uids.ToString()), new CompositeHandler(vanished, expunged), cancellationToken)
            .ConfigureAwait(false);
        return UidSet.FromUids(vanished.Items.SelectMany(v => v.Uids.Expand()));
    }

    public static async Task<IReadOnlyList<uint>> ExpungeAsync(ImapClient client, CancellationToken cancellationToken)
    {
        var expunged = new CollectingHandler<ExpungeResponse>();
        var vanished = new CollectingHandler<VanishedResponse>(r => !r.Earlier);
        await client.ExecuteOkAsync(client.Command("EXPUNGE"), new CompositeHandler(expunged, vanished), cancellationToken).ConfigureAwait(false);
        return expunged.Items.Select(e => e.Sequence).ToList();
    }

    public static async Task<CopyResult?> UidCopyOrMoveAsync(ImapClient client, string verb, UidSet uids, string destination, CancellationToken cancellationToken)
    {
        if (verb == "UID MOVE" && !client.Capabilities.Move)
            throw new NotSupportedException($"{client.Options.Host} has no MOVE");
        // MOVE reports COPYUID in an untagged OK before its expunges (RFC 6851 §4.3).
        var copyUid = new CollectingHandler<UntaggedConditionResponse>(r => r.Code is CopyUidCode);
        var expunged = new CollectingHandler<ExpungeResponse>();
        var vanished = new CollectingHandler<VanishedResponse>(r => !r.Earlier);
        var handler = verb == "UID MOVE" ? new CompositeHandler(copyUid, expunged, vanished) : new CompositeHandler(copyUid);
        var done = await client.ExecuteOkAsync(client.Command(verb).Sp().Text(uids.ToString()).Sp().Mailbox(destination), handler, cancellationToken)
            .ConfigureAwait(false);
        var code = done.Code as CopyUidCode ?? copyUid.Items.Select(r => r.Code).OfType<CopyUidCode>().FirstOrDefault();
        return code is null ? null : new CopyResult(code.UidValidity, code.SourceUids, code.DestinationUids);
    }
}

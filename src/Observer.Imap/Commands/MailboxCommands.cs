namespace Observer.Imap;

internal static class MailboxCommands
{
    public static async Task<char?> GetDelimiterAsync(ImapClient client, CancellationToken cancellationToken)
    {
        var list = new CollectingHandler<ListResponse>(r => !r.IsLsub);
        await client.ExecuteOkAsync(client.Command("LIST").Text(" \"\" \"\""), list, cancellationToken).ConfigureAwait(false);
        client.HierarchyDelimiter = list.Items.Select(r => r.Mailbox.Delimiter).FirstOrDefault(d => d is not null);
        return client.HierarchyDelimiter;
    }

    public static async Task<NamespaceResponse?> GetPersonalNamespaceAsync(ImapClient client, CancellationToken cancellationToken)
    {
        if (!client.Capabilities.Has("NAMESPACE")) return null;
        var ns = new CollectingHandler<NamespaceResponse>();
        await client.ExecuteOkAsync(client.Command("NAMESPACE"), ns, cancellationToken).ConfigureAwait(false);
        return ns.Items.Count > 0 ? ns.Items[0] : null;
    }

    public static async Task<IReadOnlyList<MailboxListEntry>> ListAsync(ImapClient client, string reference, string pattern, CancellationToken cancellationToken)
    {
        var caps = client.Capabilities;
        var command = ListCommand(client, reference, pattern);
        if (caps.ListExtended)
        {
            command.Text(caps.SpecialUse ? " RETURN (SUBSCRIBED SPECIAL-USE)" : " RETURN (SUBSCRIBED)");
            var extended = new CollectingHandler<ListResponse>(r => !r.IsLsub);
            await client.ExecuteOkAsync(command, extended, cancellationToken).ConfigureAwait(false);
            // RETURN (SUBSCRIBED) also lists subscribed names that no longer exist, marked \NonExistent.
            return extended.Items.Select(r => r.Mailbox).Where(m => !m.HasAttribute("\\NonExistent")).ToList();
        }

        var all = new CollectingHandler<ListResponse>(r => !r.IsLsub);
        await client.ExecuteOkAsync(command, all, cancellationToken).ConfigureAwait(false);
        var subscribed = (await LsubAsync(client, pattern, cancellationToken).ConfigureAwait(false))
            .Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        return all.Items.Select(r => subscribed.Contains(r.Mailbox.Name)
            ? r.Mailbox with { Attributes = new HashSet<string>(r.Mailbox.Attributes.Append("\\Subscribed"), StringComparer.OrdinalIgnoreCase) }
            : r.Mailbox).ToList();
    }

    public static async Task<IReadOnlyList<MailboxWithStatus>> ListWithStatusAsync(ImapClient client, StatusItems items, string pattern, CancellationToken cancellationToken)
    {
        var caps = client.Capabilities;
        if (!caps.ListStatus || !caps.ListExtended)
        {
            var result = new List<MailboxWithStatus>();
            foreach (var mailbox in await ListAsync(client, "", pattern, cancellationToken).ConfigureAwait(false))
            {
                var status = mailbox.IsSelectable ? await StatusAsync(client, mailbox.Name, items, cancellationToken).ConfigureAwait(false) : null;
                result.Add(new MailboxWithStatus(mailbox, status));
            }
            return result;
        }

        var command = ListCommand(client, "", pattern)
            .Text(caps.SpecialUse ? " RETURN (SUBSCRIBED SPECIAL-USE STATUS (" : " RETURN (SUBSCRIBED STATUS (")
            .Text(StatusItemList(client, items)).Text("))");
        var lists = new CollectingHandler<ListResponse>(r => !r.IsLsub);
        var statuses = new CollectingHandler<MailboxStatusResponse>();
        await client.ExecuteOkAsync(command, new CompositeHandler(lists, statuses), cancellationToken).ConfigureAwait(false);
        var byName = new Dictionary<string, MailboxStatus>(StringComparer.Ordinal);
        foreach (var s in statuses.Items) byName[s.Mailbox] = s.Status;
        return lists.Items
            .Where(r => !r.Mailbox.HasAttribute("\\NonExistent"))
            .Select(r => new MailboxWithStatus(r.Mailbox, byName.GetValueOrDefault(r.Mailbox.Name)))
            .ToList();
    }

    public static async Task<IReadOnlyList<MailboxListEntry>> LsubAsync(ImapClient client, string pattern, CancellationToken cancellationToken)
    {
        var lsub = new CollectingHandler<ListResponse>(r => r.IsLsub);
        var command = client.Command("LSUB").Text(" \"\" ").String(Encode(client, pattern));
        await client.ExecuteOkAsync(command, lsub, cancellationToken).ConfigureAwait(false);
        return lsub.Items.Select(r => r.Mailbox).ToList();
    }

    public static async Task<MailboxStatus> StatusAsync(ImapClient client, string mailbox, StatusItems items, CancellationToken cancellationToken)
    {
        var command = client.Command("STATUS").Sp().Mailbox(mailbox).Text(" (").Text(StatusItemList(client, items)).Text(")");
        // With NOTIFY active, STATUS for other mailboxes can arrive meanwhile; only ours answers this command.
        var status = new CollectingHandler<MailboxStatusResponse>(r => SameName(r.Mailbox, mailbox));
        await client.ExecuteOkAsync(command, status, cancellationToken).ConfigureAwait(false);
        return status.Items.Count > 0 ? status.Items[^1].Status
            : throw new ImapProtocolException($"STATUS of a mailbox returned no STATUS data");
    }

    public static async Task SimpleAsync(ImapClient client, string verb, string mailbox, CancellationToken cancellationToken) =>
        await client.ExecuteOkAsync(client.Command(verb).Sp().Mailbox(mailbox), null, cancellationToken).ConfigureAwait(false);

    public static async Task DeleteAsync(ImapClient client, string mailbox, CancellationToken cancellationToken)
    {
        await SimpleAsync(client, "DELETE", mailbox, cancellationToken).ConfigureAwait(false);
        if (client.Selected is { } selected && SameName(selected.Name, mailbox)) client.Selected = null;
    }

    public static async Task RenameAsync(ImapClient client, string mailbox, string newName, CancellationToken cancellationToken) =>
        await client.ExecuteOkAsync(client.Command("RENAME").Sp().Mailbox(mailbox).Sp().Mailbox(newName), null, cancellationToken).ConfigureAwait(false);

    internal static bool SameName(string a, string b) =>
        a.Equals(b, StringComparison.Ordinal)
        || (a.Equals("INBOX", StringComparison.OrdinalIgnoreCase) && b.Equals("INBOX", StringComparison.OrdinalIgnoreCase));

    private static ImapCommand ListCommand(ImapClient client, string reference, string pattern) =>
        client.Command("LIST").Sp().String(Encode(client, reference)).Sp().String(Encode(client, pattern));

    // List patterns hold wildcards, so they are encoded as names but never quoted as atoms.
    private static string Encode(ImapClient client, string name) => MailboxNameCodec.Encode(name, client.Utf8Enabled);

    private static string StatusItemList(ImapClient client, StatusItems items)
    {
        var names = new List<string>();
        if (items.HasFlag(StatusItems.Messages)) names.Add("MESSAGES");
        if (items.HasFlag(StatusItems.Recent)) names.Add("RECENT");
        if (items.HasFlag(StatusItems.UidNext)) names.Add("UIDNEXT");
        if (items.HasFlag(StatusItems.UidValidity)) names.Add("UIDVALIDITY");
        if (items.HasFlag(StatusItems.Unseen)) names.Add("UNSEEN");
        if (items.HasFlag(StatusItems.HighestModSeq) && client.Capabilities.CondStore) names.Add("HIGHESTMODSEQ");
        if (items.HasFlag(StatusItems.Size) && client.Capabilities.Has("STATUS=SIZE")) names.Add("SIZE");
        return string.Join(' ', names);
    }
}

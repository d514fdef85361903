namespace Observer.Imap;

internal static class StoreCommands
{
    public static async Task<StoreResult> UidStoreAsync(
        ImapClient client, UidSet uids, StoreMode mode, MessageFlags flags, bool silent, ulong? unchangedSince, CancellationToken cancellationToken)
    {
        var command = client.Command("UID STORE").Sp().Text(uids.ToString());
        if (unchangedSince is { } since && client.Capabilities.CondStore) command.Text(" (UNCHANGEDSINCE ").Number(since).Text(")");
        var item = mode switch { StoreMode.Add => "+FLAGS", StoreMode.Remove => "-FLAGS", _ => "FLAGS" };
        command.Sp().Text(silent ? item + ".SILENT" : item).Sp().Flags(flags.WithoutRecent());

        var updates = new CollectingHandler<FetchResponse>(r => r.Data.Uid is not null && uids.Contains(r.Data.Uid.Value));
        var done = await client.ExecuteOkAsync(command, updates, cancellationToken).ConfigureAwait(false);
        return new StoreResult(updates.Items.Select(u => u.Data).ToList(), (done.Code as ModifiedCode)?.Set);
    }
}

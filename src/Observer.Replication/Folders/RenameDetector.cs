using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// Without a NOTIFY hint, a rename shows as one folder gone and one new. Most servers keep a folder's
/// UIDVALIDITY across RENAME while a new folder gets a fresh one, so equal UIDVALIDITY means renamed.
/// Courier gives a renamed folder a new UIDVALIDITY (and new UIDs): there, a new folder holding exactly
/// nearly all the messages of the gone one, by size, date and Message-ID, is the same folder, so the replica folder is
/// renamed too instead of deleted and uploaded again. Its messages are then re-mapped by MD5.
/// </summary>
internal sealed class RenameDetector(SyncContext context, Dictionary<string, MailboxWithStatus> primary)
{
    private readonly Dictionary<string, MailboxStatus> _status = new(StringComparer.Ordinal);

    public async Task<string?> FindAsync(FolderRecord gone, IReadOnlyList<string> fresh, CancellationToken cancellationToken)
    {
        // A folder never synced has no UIDVALIDITY in its record, but may have been listed with one.
        if ((gone.PrimaryUidValidity ?? context.Validities.Find(gone.PrimaryName)) is not { } validity) return null;
        foreach (var name in fresh)
        {
            var status = await StatusAsync(name, cancellationToken).ConfigureAwait(false);
            if (status.UidValidity == validity && (status.UidNext ?? 0) >= (gone.PrimaryUidNext ?? 0)) return name;
        }
        return await SameContentAsync(gone, fresh, cancellationToken).ConfigureAwait(false);
    }

    private async Task<string?> SameContentAsync(FolderRecord gone, IReadOnlyList<string> fresh, CancellationToken cancellationToken)
    {
        // An empty folder has nothing to recognise it by, and nothing to upload again either.
        var rows = context.Store.Messages.ForFolder(gone.Id).Values.Where(r => r.VanishedAt is null).ToList();
        if (rows.Count == 0) return null;
        var expected = Fingerprint(rows.Select(r => (r.Size, r.InternalDate, r.MessageId)));
        var depth = Depth(gone.PrimaryName);
        var similar = new List<string>();
        foreach (var name in fresh)
            if ((await StatusAsync(name, cancellationToken).ConfigureAwait(false)).Messages is { } n && Close(n, rows.Count)) similar.Add(name);
        // A parent and its child can hold the same messages: prefer the new name at the same depth.
        foreach (var name in similar.OrderBy(n => Math.Abs(Depth(n) - depth)).ThenBy(n => n.Length))
        {
            await context.Primary.SelectAsync(name, readOnly: true, null, cancellationToken).ConfigureAwait(false);
            using var fetched = await context.Primary.FetchSummariesAsync(UidSet.All, cancellationToken).ConfigureAwait(false);
            var found = Fingerprint(fetched.Messages.Select(MessageSummary.From).Select(m => (m.Size, m.InternalDate, m.MessageId)));
            if (Close(Shared(expected, found), Math.Max(expected.Count, found.Count))) return name;
        }
        return null;
    }

    /// <summary>
    /// Nearly all: mail may have come or gone between the rename and this look. A wrong guess costs
    /// only speed, never correctness: the renamed folder's messages are then re-mapped by MD5 as usual.
    /// </summary>
    private static bool Close(long count, long of) => count > 0 && Math.Abs(of - count) <= Math.Max(2, Math.Max(of, count) / 10);

    private static int Shared(List<string> a, List<string> b)
    {
        var pool = b.GroupBy(x => x, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var shared = 0;
        foreach (var x in a)
        {
            if (!pool.TryGetValue(x, out var left) || left == 0) continue;
            pool[x] = left - 1;
            shared++;
        }
        return shared;
    }

    private async Task<MailboxStatus> StatusAsync(string name, CancellationToken cancellationToken)
    {
        if (_status.TryGetValue(name, out var known)) return known;
        var status = primary[name].Status ?? await context.Primary.StatusAsync(name, cancellationToken).ConfigureAwait(false);
        return _status[name] = status;
    }

    private int Depth(string name) => context.Names.PrimaryDelimiter is { } d ? name.Count(c => c == d) : 0;

    private static List<string> Fingerprint(IEnumerable<(long Size, DateTimeOffset? Date, string? MessageId)> messages) =>
        messages.Select(m => $"{m.Size}/{m.Date?.ToUnixTimeSeconds()}/{m.MessageId}").Order(StringComparer.Ordinal).ToList();
}

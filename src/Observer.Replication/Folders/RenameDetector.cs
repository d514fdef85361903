using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// Without a NOTIFY hint, a rename shows as one folder gone and one new. Most servers keep a folder's
/// UIDVALIDITY and UIDs across RENAME, so a new folder with the gone one's UIDVALIDITY whose messages are
/// the gone one's, UID for UID, is the same folder. Equal UIDVALIDITY alone is not enough: Cyrus gives
/// every folder created in the same second the same one. Courier gives a renamed folder a new UIDVALIDITY
/// (and new UIDs): there, a new folder holding nearly all the messages of the gone one, by size, date
/// and Message-ID, is the same folder, so the replica folder is renamed too instead of deleted and
/// uploaded again. Its messages are then re-mapped by MD5.
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
            if (status.UidValidity == validity && (status.UidNext ?? 0) >= (gone.PrimaryUidNext ?? 0)
                && await HoldsOnlyItsMessagesAsync(gone, name, cancellationToken).ConfigureAwait(false)) return name;
        }
        return await SameContentAsync(gone, fresh, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether <paramref name="name"/>'s messages agree with the gone folder's records, which are kept as they
    /// are across the rename, UID for UID: taken for another folder's, they would map its messages to the
    /// wrong copies on the replica (a CI run on Cyrus renamed a deleted folder onto one renamed in the same
    /// pass, created in the same second). Below a checkpoint's UIDNEXT the records are complete, so every
    /// message there must be one of them, of the same size; a folder never synced must only not contradict them.
    /// </summary>
    private async Task<bool> HoldsOnlyItsMessagesAsync(FolderRecord gone, string name, CancellationToken cancellationToken)
    {
        var rows = context.Store.Messages.ForFolder(gone.Id);
        var checkpointed = gone.PrimaryUidNext is not null;
        var below = gone.PrimaryUidNext is { } next ? (next > 1 ? UidSet.Range(1, next - 1) : UidSet.Empty) : UidSet.All;
        if (below.IsEmpty || (!checkpointed && rows.Count == 0)) return true;
        await context.Primary.SelectAsync(name, readOnly: true, null, cancellationToken).ConfigureAwait(false);
        using var fetched = await context.Primary.FetchAttributesAsync(below, cancellationToken).ConfigureAwait(false);
        return fetched.Messages.All(m => m.Uid is { } uid && (rows.TryGetValue(uid, out var row) ? m.Size is null || m.Size == row.Size : !checkpointed));
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

using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// A delayed replica's flag changes in one folder: an added flag goes at once; a removed one stays on the replica until
/// the removal is older than the delay (a mass "mark all unread" or a tool that stripped keywords is a mistake to recover
/// from too). What waits is kept in the state with the primary's flags, so a later pass applies it even when the
/// primary has not changed since. Null for every other policy.
/// </summary>
internal sealed class DelayedFlagRemovals
{
    private readonly SyncContext _context;
    private readonly FolderRecord _folder;
    private readonly Dictionary<uint, (string Flags, DateTimeOffset Since)> _held;

    private DelayedFlagRemovals(SyncContext context, FolderRecord folder)
    {
        (_context, _folder) = (context, folder);
        _held = context.Store.HeldFlags.ForFolder(folder.Id);
    }

    public static DelayedFlagRemovals? For(SyncContext context, FolderRecord folder) => context.Policy.Delays ? new(context, folder) : null;

    private DateTimeOffset Now => _context.Time.GetUtcNow();

    private bool IsDue(DateTimeOffset since) => since + _context.Policy.Delay <= Now;

    /// <summary>Whether a held removal has fallen due: the folder is synced then, even if the primary shows no change.</summary>
    public bool AnyDue => _held.Values.Any(h => IsDue(h.Since));

    /// <summary>Adds the removals now due to <paramref name="wanted"/> (newer flags from the primary win); forgets those of messages gone.</summary>
    public void AddDue(Dictionary<uint, MessageFlags> wanted, Dictionary<uint, MessageRecord> rows)
    {
        var gone = _held.Keys.Where(uid => !rows.TryGetValue(uid, out var row) || row.VanishedAt is not null).ToList();
        if (gone.Count > 0)
        {
            _context.Store.HeldFlags.Release(_folder.Id, gone);
            foreach (var uid in gone) _held.Remove(uid);
        }
        foreach (var (uid, held) in _held.Where(h => IsDue(h.Value.Since))) wanted.TryAdd(uid, MessageFlags.Parse(held.Flags));
    }

    /// <summary>The flags to set on the replica for <paramref name="wanted"/>: those, and any the copy carries whose removal still waits.</summary>
    public MessageFlags Apply(MessageRecord row, MessageFlags wanted)
    {
        var carried = MessageFlags.Parse(row.Flags);
        var removed = carried.All.Where(f => !wanted.Contains(f)).ToList();
        var since = _held.TryGetValue(row.PrimaryUid, out var held) ? held.Since : Now;
        if (removed.Count == 0 || IsDue(since))
        {
            if (_held.Remove(row.PrimaryUid)) _context.Store.HeldFlags.Release(_folder.Id, [row.PrimaryUid]);
            return wanted;
        }
        _held[row.PrimaryUid] = (wanted.ToString(), since);
        _context.Store.HeldFlags.Hold(_folder.Id, row.PrimaryUid, wanted.ToString(), since);
        return new MessageFlags(wanted.All.Concat(removed));
    }
}

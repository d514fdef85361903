using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// A delayed replica's flag changes in one folder. An added flag goes at once; a flag the primary removed stays on the
/// replica copy until that removal is older than the delay (a mass "mark all unread", a tool that stripped keywords, are
/// mistakes to recover from too). Each held flag has its own clock in the state, and the copy's recorded flags are what
/// it carries: the primary's and the held ones. Under any other policy (the replica's policy changed) every held
/// removal is due at once, so nothing stays held for a replica that no longer delays.
/// </summary>
internal sealed class DelayedFlagRemovals
{
    private readonly SyncContext _context;
    private readonly FolderRecord _folder;
    private Dictionary<uint, Dictionary<string, DateTimeOffset>> _held;

    private DelayedFlagRemovals(SyncContext context, FolderRecord folder, Dictionary<uint, Dictionary<string, DateTimeOffset>> held) =>
        (_context, _folder, _held) = (context, folder, held);

    /// <summary>For a delayed replica, or a folder with removals still held from when it was one; else null.</summary>
    public static DelayedFlagRemovals? For(SyncContext context, FolderRecord folder)
    {
        var held = context.Store.HeldFlags.ForFolder(folder.Id);
        return context.Policy.Delays || held.Count > 0 ? new(context, folder, held) : null;
    }

    private DateTimeOffset Now => _context.Time.GetUtcNow();

    private bool IsDue(DateTimeOffset since) => !_context.Policy.Delays || since + _context.Policy.Delay <= Now;

    /// <summary>Whether a held removal has fallen due: the folder is synced then, even if the primary shows no change.</summary>
    public bool AnyDue => _held.Values.Any(flags => flags.Values.Any(IsDue));

    /// <summary>The primary's flags as the state knows them: the copy's recorded flags less those held.</summary>
    public MessageFlags PrimaryFlags(MessageRecord row)
    {
        var recorded = MessageFlags.Parse(row.Flags);
        return _held.TryGetValue(row.PrimaryUid, out var held) ? new MessageFlags(recorded.All.Where(f => !held.ContainsKey(f))) : recorded;
    }

    /// <summary>
    /// Messages with a removal now due are owed a STORE even when the primary has not changed: they are added to
    /// <paramref name="wanted"/> with the primary's flags (a change the primary reported wins). Holds of messages that
    /// are gone or waiting to be expunged are dropped.
    /// </summary>
    public void AddDue(Dictionary<uint, MessageFlags> wanted, Dictionary<uint, MessageRecord> rows)
    {
        // Read again: since the sync began, a changed UIDVALIDITY or a lost copy may have taken rows, and their holds with them.
        _held = _context.Store.HeldFlags.ForFolder(_folder.Id);
        var gone = _held.Where(h => !rows.TryGetValue(h.Key, out var row) || row.VanishedAt is not null).Select(h => h.Key).ToList();
        if (gone.Count > 0)
        {
            _context.Store.HeldFlags.Save(_folder.Id, [], gone.SelectMany(uid => _held[uid].Keys.Select(flag => (uid, flag))).ToList());
            foreach (var uid in gone) _held.Remove(uid);
        }
        foreach (var (uid, flags) in _held.Where(h => h.Value.Values.Any(IsDue)))
            wanted.TryAdd(uid, PrimaryFlags(rows[uid]));
    }

    /// <summary>What one message's STORE sets, and the holds it starts and ends; saved with the STORE (see <see cref="Save"/>).</summary>
    public sealed record Plan(MessageFlags Set, IReadOnlyList<(uint Uid, string Flag, DateTimeOffset Since)> Holds, IReadOnlyList<(uint Uid, string Flag)> Releases)
    {
        public bool ChangesHolds => Holds.Count > 0 || Releases.Count > 0;
    }

    /// <param name="wanted">The primary's flags for the message.</param>
    /// <param name="fromPrimary">Whether a difference between the copy's recorded flags and the primary's is the primary's doing (only
    /// then can a removal start to wait): a flag the copy has for another reason, set on the replica behind Observer's back or found on
    /// an adopted copy, goes at once.</param>
    public Plan PlanFor(MessageRecord row, MessageFlags wanted, bool fromPrimary)
    {
        var uid = row.PrimaryUid;
        var held = _held.GetValueOrDefault(uid) ?? [];
        var kept = new List<string>();
        var holds = new List<(uint, string, DateTimeOffset)>();
        foreach (var flag in MessageFlags.Parse(row.Flags).All.Where(f => !wanted.Contains(f)))
        {
            if (held.TryGetValue(flag, out var since))
            {
                if (!IsDue(since)) kept.Add(flag);
            }
            else if (fromPrimary && _context.Policy.Delays && !flag.Equals(MessageFlags.Recent, StringComparison.OrdinalIgnoreCase))
            {
                kept.Add(flag);
                holds.Add((uid, flag, Now));
            }
        }
        var releases = held.Keys.Where(f => !kept.Contains(f, StringComparer.OrdinalIgnoreCase)).Select(f => (uid, f)).ToList();
        return new Plan(kept.Count == 0 ? wanted : new MessageFlags(wanted.All.Concat(kept)), holds, releases);
    }

    /// <summary>Records what a STORE (or a plan that needed none) did to the holds; in the caller's transaction.</summary>
    public void Save(IEnumerable<Plan> plans)
    {
        var list = plans.Where(p => p.ChangesHolds).ToList();
        if (list.Count == 0) return;
        _context.Store.HeldFlags.Save(_folder.Id, list.SelectMany(p => p.Holds), list.SelectMany(p => p.Releases));
        foreach (var plan in list)
        {
            foreach (var (uid, flag) in plan.Releases)
                if (_held.TryGetValue(uid, out var flags) && flags.Remove(flag) && flags.Count == 0) _held.Remove(uid);
            foreach (var (uid, flag, since) in plan.Holds)
            {
                if (!_held.TryGetValue(uid, out var flags)) _held[uid] = flags = new Dictionary<string, DateTimeOffset>(StringComparer.OrdinalIgnoreCase);
                flags.TryAdd(flag, since);
            }
        }
    }
}

using System.Collections.Concurrent;
using Observer.Mail;

namespace Observer.Replication;

/// <summary>
/// The UIDVALIDITY each primary folder had when last listed, for the life of the process. A folder's
/// record learns its UIDVALIDITY only when its first sync completes; one created on the replica and
/// renamed on the primary before that (a connection cut in between) would otherwise look deleted, and
/// a few of them at once trip the mass-deletion guard. With this, the rename is recognised as usual.
/// </summary>
internal sealed class ListedValidities
{
    private readonly ConcurrentDictionary<string, uint> _byName = new(StringComparer.Ordinal);

    public void Note(IEnumerable<MailboxWithStatus> listing)
    {
        foreach (var entry in listing)
            if (entry.Status?.UidValidity is { } validity) _byName[entry.Mailbox.Name] = validity;
    }

    /// <summary>A folder's UIDVALIDITY as seen when it was opened: servers without LIST-STATUS list none.</summary>
    public void Note(string folder, uint validity) => _byName[folder] = validity;

    public uint? Find(string folder) => _byName.TryGetValue(folder, out var validity) ? validity : null;
}

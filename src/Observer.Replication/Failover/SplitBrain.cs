using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// After a promotion, compares a server that followed the old primary (the old primary itself, or another mirror) with the
/// new primary before anything is written to it, and copies back what only it holds. A message is the server's own when
/// its bytes are neither in the new primary's folder now nor anywhere in the failover point (what the new primary held
/// when it was promoted): the old primary's mail since the failover, or a mirror's copy the new primary never received.
/// A message the new primary held and deleted since is not brought back: the new primary wins, as for flags.
/// </summary>
/// <param name="known">The MD5s (hex) the new primary is known to have held: the failover point's, and every copy already copied back
/// for this failover, from any server (so two servers holding one message, or a comparison run again later, copy it once).</param>
internal sealed class SplitBrain(SyncContext context, FolderFilter filter, FailoverCheck check, IReadOnlyList<FailoverMessage> point, IReadOnlySet<string> known)
{
    private IMailSession NewPrimary => context.Primary;

    private IMailSession Server => context.Replica;

    private bool OfOldPrimary => check.Server == check.Failover.OldPrimary;

    public async Task<SplitBrainReport> CompareAsync(CancellationToken cancellationToken)
    {
        var report = new SplitBrainReport(check) { Copied = context.Store.Failovers.Copies(check.Failover.Id).Where(c => c.Server == check.Server).ToList() };
        var pointFolders = point.GroupBy(p => p.OldFolder).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var pointNewFolders = point.Select(p => p.NewFolder).ToHashSet(StringComparer.Ordinal);
        // The old primary's folders have the names the point recorded; another mirror's are translated (delimiter, prefix).
        var names = FolderNameMapper.For(Server, NewPrimary);
        var back = FolderNameMapper.For(NewPrimary, Server);
        var serverFolders = await SelectableAsync(Server, cancellationToken).ConfigureAwait(false);
        var newFolders = await SelectableAsync(NewPrimary, cancellationToken).ConfigureAwait(false);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var serverFolder in serverFolders.Order(StringComparer.Ordinal))
        {
            var recorded = OfOldPrimary && pointFolders.TryGetValue(serverFolder, out var rows) ? rows : null;
            var name = recorded?[0].NewFolder ?? names.ToReplica(serverFolder);
            if (!filter.Includes(name) || !seen.Add(name)) continue;
            var onServer = await ReadAsync(Server, serverFolder, cancellationToken).ConfigureAwait(false);
            var onNew = newFolders.Contains(name) ? await ReadAsync(NewPrimary, name, cancellationToken).ConfigureAwait(false) : [];
            var folder = new SplitBrainFolder(name, serverFolder) { MissingOnNew = !newFolders.Contains(name), CreatedSince = recorded is null && !pointNewFolders.Contains(name) };
            folder.OnlyOnServer.AddRange(OneSided(onServer, onNew, known));
            if (OfOldPrimary)
            {
                folder.OnlyOnNew.AddRange(OneSided(onNew, onServer, known));
                if (recorded is not null) folder.FlagConflicts.AddRange(Conflicts(recorded, onServer, onNew));
            }
            if (folder.HasFindings || folder.ToCreate) report.Folders.Add(folder);
        }
        if (!OfOldPrimary) return report;
        foreach (var name in newFolders.Where(n => !seen.Contains(n) && filter.Includes(n)).Order(StringComparer.Ordinal))
        {
            // On the new primary only: created there since the failover, or deleted on the old primary since (the new primary's stays).
            var onNew = await ReadAsync(NewPrimary, name, cancellationToken).ConfigureAwait(false);
            var folder = new SplitBrainFolder(name, back.ToReplica(name)) { MissingOnServer = true, CreatedSince = !pointNewFolders.Contains(name) };
            folder.OnlyOnNew.AddRange(OneSided(onNew, [], known));
            if (folder.HasFindings) report.Folders.Add(folder);
        }
        return report;
    }

    /// <summary>
    /// Copies what only the server holds to the new primary, with its flags and internal date, and records each copy as it
    /// lands. Run again after a crash, it finds the copies already made on the new primary and copies only the rest.
    /// </summary>
    public async Task<int> CopyBackAsync(SplitBrainReport report, CancellationToken cancellationToken)
    {
        var copied = 0;
        // The comparison ran outside the lock (it may read for long); what another server copied back meanwhile is left out under it.
        using var _ = await CopyBackLock.TakeAsync(context.Store, check.Failover.Id, cancellationToken).ConfigureAwait(false);
        var already = CopiedBack.Md5s(context.Store, check);
        foreach (var folder in report.Folders.Where(f => f.ToCreate || f.OnlyOnServer.Count > 0))
        {
            if (folder.MissingOnNew) await NewPrimary.CreateAsync(folder.Folder, cancellationToken).ConfigureAwait(false);
            var fresh = folder.OnlyOnServer.Where(m => !already.Contains(m.Md5)).ToList();
            copied += await CopiedBack.CopyAsync(context, check, folder.ServerFolder, folder.Folder, fresh, cancellationToken).ConfigureAwait(false);
        }
        return copied;
    }

    /// <summary>Messages of <paramref name="side"/> whose bytes <paramref name="other"/> lacks (as a multiset) and the new primary was never known to hold.</summary>
    private static IEnumerable<SplitBrainMessage> OneSided(List<SplitBrainMessage> side, List<SplitBrainMessage> other, IReadOnlySet<string> heldAtFailover)
    {
        var available = other.GroupBy(m => m.Md5).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        foreach (var m in side.OrderBy(m => m.Uid))
        {
            if (available.TryGetValue(m.Md5, out var n) && n > 0) available[m.Md5] = n - 1;
            else if (!heldAtFailover.Contains(m.Md5)) yield return m;
        }
    }

    /// <summary>Messages of the failover point whose flags the old primary changed since, and that differ from the new primary's now.</summary>
    private static IEnumerable<FlagConflict> Conflicts(List<FailoverMessage> known, List<SplitBrainMessage> onOld, List<SplitBrainMessage> onNew)
    {
        var oldByUid = onOld.ToDictionary(m => m.Uid);
        var newByUid = onNew.ToDictionary(m => m.Uid);
        foreach (var row in known)
        {
            var md5 = Md5.Hex(row.Md5);
            // The UIDs are checked against the bytes: a folder whose UIDVALIDITY changed since numbers other messages.
            if (!oldByUid.TryGetValue(row.OldUid, out var old) || old.Md5 != md5 || !newByUid.TryGetValue(row.NewUid, out var now) || now.Md5 != md5) continue;
            var atFailover = MessageFlags.Parse(row.Flags);
            if (!old.Flags.Equals(atFailover) && !old.Flags.Equals(now.Flags)) yield return new FlagConflict(old, atFailover, now.Flags);
        }
    }

    private static async Task<HashSet<string>> SelectableAsync(IMailSession session, CancellationToken cancellationToken) =>
        (await session.ListAsync(false, cancellationToken).ConfigureAwait(false)).Where(m => m.Mailbox.IsSelectable).Select(m => m.Mailbox.Name).ToHashSet(StringComparer.Ordinal);

    /// <summary>Every message of a folder (or those of <paramref name="uids"/>, in the folder as it is selected), read whole once: its MD5, and its sender and subject for the report.</summary>
    internal static async Task<List<SplitBrainMessage>> ReadAsync(IMailSession session, string folder, CancellationToken cancellationToken, UidSet? uids = null)
    {
        var messages = new List<SplitBrainMessage>();
        if (session.SelectedFolder != folder || uids is null)
        {
            var selected = await session.SelectAsync(folder, readOnly: uids is null, null, cancellationToken).ConfigureAwait(false);
            if (selected.Exists == 0) return messages;
        }
        await foreach (var m in session.FetchMessagesAsync(uids ?? UidSet.All, cancellationToken).ConfigureAwait(false))
        {
            using (m)
            {
                var md5 = await Md5.OfAsync(m.Body!, cancellationToken).ConfigureAwait(false);
                var (sender, subject) = MessageHeaders.Read(m.Body!);
                messages.Add(new SplitBrainMessage(m.Uid!.Value, Md5.Hex(md5), m.Body!.Length, (m.Flags ?? MessageFlags.None).WithoutRecent(), m.InternalDate, sender, subject));
            }
        }
        return messages;
    }
}

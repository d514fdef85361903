using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// Compares the two servers message by message, from their bytes, not from our state: the
/// integrity check after a crash or a hard failover. Repair makes the primary's view win.
/// </summary>
internal sealed class Verifier(SyncContext context, FolderFilter filter)
{
    /// <param name="only">Read only these primary folders' messages (a recheck of those that differed); null reads every one.</param>
    public async Task<VerifyReport> CompareAsync(CancellationToken cancellationToken, IReadOnlySet<string>? only = null)
    {
        var report = new VerifyReport();
        var primaryList = (await context.Primary.ListAsync(false, cancellationToken).ConfigureAwait(false)).Where(m => m.Mailbox.IsSelectable).ToList();
        var primaryFolders = primaryList.Select(m => m.Mailbox.Name).Where(filter.Includes).ToList();
        var replicaFolders = (await context.Replica.ListAsync(false, cancellationToken).ConfigureAwait(false))
            .Where(m => m.Mailbox.IsSelectable).Select(m => m.Mailbox.Name).ToHashSet(StringComparer.Ordinal);
        var state = context.Store.Folders.All(context.ReplicaId).ToDictionary(f => f.PrimaryName, StringComparer.Ordinal);

        // Excluded folders are not replicated, so their replica counterparts are not ours to judge or delete.
        var mapped = primaryList.Select(m => m.Mailbox.Name).Where(n => !filter.Includes(n)).Select(context.Names.ToReplica).ToHashSet(StringComparer.Ordinal);
        foreach (var name in primaryFolders.Order(StringComparer.Ordinal))
        {
            var replicaName = state.TryGetValue(name, out var known) ? known.ReplicaName : context.Names.ToReplica(name);
            mapped.Add(replicaName);
            if (only is not null && !only.Contains(name)) continue;
            var comparison = new FolderComparison(name, replicaName);
            var progress = new ReadProgress(context.Target, name);
            // Both sides at once: each read is mostly hashing, on a core of its own.
            var primaryRead = ReadIfThereAsync(context.Primary, name, progress, cancellationToken);
            var replicaRead = replicaFolders.Contains(replicaName) ? ReadIfThereAsync(context.Replica, replicaName, progress, cancellationToken) : Task.FromResult<List<VerifiedMessage>?>(null);
            await Task.WhenAll(primaryRead, replicaRead).ConfigureAwait(false);
            // Deleted or renamed on the primary since it was listed: a change on its way, not this folder's to judge now.
            if (await primaryRead.ConfigureAwait(false) is not { } primary) continue;
            comparison.PrimaryCount = primary.Count;
            var replica = await replicaRead.ConfigureAwait(false);
            comparison.ReplicaFolderMissing = replica is null;
            replica ??= [];
            comparison.ReplicaCount = replica.Count;
            Match(primary, replica, comparison);
            await MatchStoredFormsAsync(name, comparison, cancellationToken).ConfigureAwait(false);
            if (known is not null) SetKeptApart(known, comparison);
            if (known is not null) SetHeldFlagsApart(known, comparison);
            report.Folders.Add(comparison);
        }
        // Looking at some folders only (--folders), a folder on the replica alone is not within what was asked.
        foreach (var extra in replicaFolders.Where(f => !filter.Scoped && !mapped.Contains(f) && !IsAncestorOfMapped(f, mapped)).Order(StringComparer.Ordinal))
        {
            if (await IfStillThereAsync(context.Replica, extra, () => context.Replica.StatusAsync(extra, cancellationToken), cancellationToken).ConfigureAwait(false) is not { } status) continue;
            // An archive keeps every folder the primary deleted; a delayed replica those whose deletion waits out its delay.
            var kept = context.Policy.Keeps || (context.Policy.Delays && state.Values.Any(f => f.ReplicaName == extra && f.GoneSince is not null));
            (kept ? report.KeptFolders : report.ReplicaOnlyFolders).Add((extra, status.Messages ?? 0));
        }
        return report;
    }

    /// <summary>
    /// Rebuilds each differing folder's map from what was found (so nothing that is already there is
    /// uploaded again), then lets a full reconciliation copy, delete and set flags as the primary says.
    /// </summary>
    public async Task RepairAsync(VerifyReport report, Reconciler reconciler, bool force, CancellationToken cancellationToken)
    {
        var store = context.Store;
        foreach (var folder in report.Folders.Where(f => !f.Identical))
        {
            var record = store.Folders.Find(context.ReplicaId, folder.Folder) ?? store.Folders.Add(context.ReplicaId, folder.Folder, folder.ReplicaFolder);
            // Expunges a delayed replica holds stay held (their delay starts again: later, never sooner).
            var keptUids = folder.KeptOnReplica.Select(m => m.Uid).ToHashSet();
            var held = store.Messages.ForFolder(record.Id).Values.Where(r => r.VanishedAt is not null && keptUids.Contains(r.ReplicaUid)).ToList();
            store.InTransaction(() =>
            {
                store.Messages.Clear(record.Id);
                store.Messages.Put(held);
                store.Messages.MarkVanished(record.Id, held.Select(r => r.PrimaryUid));
                store.Messages.Put(folder.Matched.Select(m => new MessageRecord
                {
                    FolderId = record.Id,
                    PrimaryUid = m.Primary.Uid,
                    ReplicaUid = m.Replica.Uid,
                    Md5 = m.Primary.Md5,
                    Size = m.Primary.Size,
                    InternalDate = m.Primary.InternalDate,
                    // What the replica really carries, so the flag pass puts the primary's flags back.
                    Flags = m.Replica.Flags.ToString(),
                    MessageId = m.Primary.MessageId,
                }));
                store.Folders.ResetCheckpoint(record.Id);
                store.Troubles.Clear(context.ReplicaId, folder.Folder);
            });
        }
        foreach (var (extra, messages) in report.ReplicaOnlyFolders)
        {
            if (!force && messages > context.Options.MaxDeleteFloor) continue;
            await context.Replica.UnselectAsync(cancellationToken).ConfigureAwait(false);
            await context.Replica.DeleteAsync(extra, cancellationToken).ConfigureAwait(false);
            Log.FolderDeleted(context.Logger, extra);
        }
        await reconciler.RunAsync(full: true, force, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Copies only on the replica that its state says the policy keeps (expunges a delayed replica holds, an archive's kept
    /// copies) are set apart: they are what the replica is for. Any other is a difference, for every policy.
    /// </summary>
    private void SetKeptApart(FolderRecord folder, FolderComparison comparison)
    {
        if (comparison.ExtraOnReplica.Count == 0 || context.Policy.Policy == ReplicaPolicy.Mirror) return;
        var kept = context.Store.Kept.ReplicaUids(folder.Id);
        kept.UnionWith(context.Store.Messages.ForFolder(folder.Id).Values.Where(r => r.VanishedAt is not null).Select(r => r.ReplicaUid));
        comparison.KeptOnReplica.AddRange(comparison.ExtraOnReplica.Where(m => kept.Contains(m.Uid)));
        comparison.ExtraOnReplica.RemoveAll(m => kept.Contains(m.Uid));
    }

    /// <summary>
    /// A copy that carries the primary's flags and, besides, only flags whose removal the state says a delayed replica holds,
    /// is as its policy wants it, not damaged.
    /// </summary>
    private void SetHeldFlagsApart(FolderRecord folder, FolderComparison comparison)
    {
        var held = context.Store.HeldFlags.ForFolder(folder.Id);
        if (held.Count == 0) return;
        var byReplicaUid = context.Store.Messages.ForFolder(folder.Id).Values.ToDictionary(r => r.ReplicaUid, r => r.PrimaryUid);
        foreach (var (p, r) in comparison.Matched)
        {
            if (p.Flags.Equals(r.Flags) || !byReplicaUid.TryGetValue(r.Uid, out var primaryUid) || !held.TryGetValue(primaryUid, out var flags)) continue;
            var extra = r.Flags.All.Where(f => !p.Flags.Contains(f)).ToList();
            if (p.Flags.All.All(r.Flags.Contains) && extra.All(flags.ContainsKey)) comparison.FlagRemovalsHeld.Add(r.Uid);
        }
    }

    private bool IsAncestorOfMapped(string folder, HashSet<string> mapped) =>
        context.Names.ReplicaDelimiter is { } d && mapped.Any(m => m.StartsWith(folder + d, StringComparison.Ordinal));

    /// <summary>
    /// Runs <paramref name="look"/> at a folder listed a moment ago. A folder deleted or renamed since (a change on its way,
    /// beside a running service or a user at work) makes the server say NO: then null, rather than a failed verify.
    /// </summary>
    private static async Task<T?> IfStillThereAsync<T>(IMailSession session, string folder, Func<Task<T>> look, CancellationToken cancellationToken) where T : class
    {
        try
        {
            return await look().ConfigureAwait(false);
        }
        catch (ImapCommandException ex) when (ex.Condition == ResponseCondition.No)
        {
            var listed = (await session.ListAsync(false, cancellationToken).ConfigureAwait(false)).Any(m => m.Mailbox.Name == folder && m.Mailbox.IsSelectable);
            // Still listed, but without a STATUS either: Dovecot's list index can name a folder just deleted for a moment.
            if (listed && await session.AnswersStatusAsync(folder, cancellationToken).ConfigureAwait(false)) throw;
            return null;
        }
    }

    private Task<List<VerifiedMessage>?> ReadIfThereAsync(IMailSession session, string folder, ReadProgress progress, CancellationToken cancellationToken) =>
        IfStillThereAsync(session, folder, () => ReadAsync(session, folder, cancellationToken, progress, _summariesOneAtATime), cancellationToken);

    /// <summary>
    /// The two sides' summaries are read one after the other: MailKit's summaries of a big folder are the bulk of a verify's
    /// memory while they are read. Only the hashing of the bodies runs side by side.
    /// </summary>
    private readonly SemaphoreSlim _summariesOneAtATime = new(1, 1);

    /// <summary>Every message of a folder, read whole: its MD5, size, flags, date and Message-ID.</summary>
    /// <param name="progress">Told how many messages there are to read, then of each one read with its size (a verify's progress display).</param>
    /// <param name="oneAtATime">Held while the summaries are read, where another folder is read at the same time.</param>
    internal static async Task<List<VerifiedMessage>> ReadAsync(IMailSession session, string folder, CancellationToken cancellationToken, ReadProgress? progress = null,
        SemaphoreSlim? oneAtATime = null)
    {
        var selected = await session.SelectAsync(folder, readOnly: true, null, cancellationToken).ConfigureAwait(false);
        var messages = new List<VerifiedMessage>();
        if (selected.Exists == 0) return messages;
        progress?.Started((int)selected.Exists);
        try
        {
            await ReadAllAsync(session, messages, progress, oneAtATime, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            progress?.Ended((int)selected.Exists - messages.Count);
        }
        return messages;
    }

    /// <remarks>
    /// Flags, dates and Message-IDs come from one FETCH, the bodies' MD5s and sizes from another, worked out as the
    /// bytes arrive: a verify reads every message of both servers, and keeps none of them.
    /// </remarks>
    private static async Task ReadAllAsync(IMailSession session, List<VerifiedMessage> messages, ReadProgress? progress, SemaphoreSlim? oneAtATime,
        CancellationToken cancellationToken)
    {
        // Only what is compared is kept of the summaries, not their header bytes.
        var summaries = new Dictionary<uint, (MessageFlags Flags, DateTimeOffset? InternalDate, string? MessageId)>();
        if (oneAtATime is not null) await oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var fetched = await session.FetchSummariesAsync(UidSet.All, cancellationToken).ConfigureAwait(false);
            foreach (var s in fetched.Messages) summaries[s.Uid!.Value] = ((s.Flags ?? MessageFlags.None).WithoutRecent(), s.InternalDate, MessageSummary.From(s).MessageId);
        }
        finally
        {
            oneAtATime?.Release();
        }
        if (summaries.Count == 0) return;
        await foreach (var digest in session.FetchDigestsAsync(UidSet.FromUids(summaries.Keys), cancellationToken).ConfigureAwait(false))
        {
            if (!summaries.TryGetValue(digest.Uid, out var summary)) continue;
            messages.Add(new VerifiedMessage(digest.Uid, digest.Md5, digest.Length, summary.Flags, summary.InternalDate, summary.MessageId));
            progress?.Read(digest.Length);
        }
    }

    /// <summary>Pairs messages with equal bytes and internal date, as multisets: duplicates need duplicates.</summary>
    private static void Match(List<VerifiedMessage> primary, List<VerifiedMessage> replica, FolderComparison comparison)
    {
        var pool = replica.GroupBy(Key).ToDictionary(g => g.Key, g => new Queue<VerifiedMessage>(g.OrderBy(m => m.Uid)));
        foreach (var p in primary.OrderBy(m => m.Uid))
        {
            if (pool.TryGetValue(Key(p), out var queue) && queue.Count > 0) comparison.Matched.Add((p, queue.Dequeue()));
            else comparison.MissingOnReplica.Add(p);
        }
        comparison.ExtraOnReplica.AddRange(pool.Values.SelectMany(q => q));
    }

    /// <summary>
    /// Pairs what is left with copies the replica server keeps in its own form (see <see cref="StoredForms"/>).
    /// Only the few unmatched primary messages are read again, so a clean folder costs nothing more.
    /// </summary>
    private async Task MatchStoredFormsAsync(string folder, FolderComparison comparison, CancellationToken cancellationToken)
    {
        if (comparison.MissingOnReplica.Count == 0 || comparison.ExtraOnReplica.Count == 0) return;
        var candidates = comparison.MissingOnReplica.Where(m => m.Size <= StoredForms.MaxBytes).ToDictionary(m => m.Uid);
        if (candidates.Count == 0) return;
        var forms = new Dictionary<uint, IReadOnlyList<(string Form, byte[] Md5)>>();
        // Gone since it was read: the differences stand as found, for a later look to settle.
        if (await IfStillThereAsync(context.Primary, folder, () => context.Primary.SelectAsync(folder, readOnly: true, null, cancellationToken), cancellationToken).ConfigureAwait(false) is null) return;
        await foreach (var m in context.Primary.FetchBodiesAsync(UidSet.FromUids(candidates.Keys), cancellationToken).ConfigureAwait(false))
        {
            using (m)
                if (m.Uid is { } uid && m.Body is { } body) forms[uid] = StoredForms.AlteredMd5s(body.ToArray());
        }
        foreach (var (uid, altered) in forms)
        {
            var primary = candidates[uid];
            var copy = comparison.ExtraOnReplica.FirstOrDefault(e => e.InternalDate?.ToUnixTimeSeconds() == primary.InternalDate?.ToUnixTimeSeconds()
                && altered.Any(f => f.Md5.AsSpan().SequenceEqual(e.Md5)));
            if (copy is null) continue;
            comparison.ExtraOnReplica.Remove(copy);
            comparison.MissingOnReplica.Remove(primary);
            comparison.Matched.Add((primary, copy));
            comparison.Altered++;
        }
    }

    private static string Key(VerifiedMessage m) => Md5.Hex(m.Md5) + "/" + m.InternalDate?.ToUnixTimeSeconds();
}

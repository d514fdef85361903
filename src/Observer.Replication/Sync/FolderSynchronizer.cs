using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// Brings one replica folder to the state of its primary folder: adopt what is already there, copy
/// what is missing (or replay a move), set flags, queue expunges, remove extras, then checkpoint.
/// Every step is idempotent, so a sync cut short anywhere is finished by the next one.
/// </summary>
internal sealed class FolderSynchronizer(SyncContext context)
{
    /// <summary>Up to this many new messages, summaries are fetched first, so moves can be found from either end.</summary>
    private const int SmallChange = 50;

    private readonly MoveReplayer _moves = new(context);

    public async Task<FolderSyncResult> SyncAsync(FolderRecord folder, SyncRequest request, CancellationToken cancellationToken)
    {
        var started = context.Time.GetUtcNow();
        var clock = Stopwatch.StartNew();
        var result = new FolderSyncResult(folder.PrimaryName);
        var store = context.Store;
        // A folder rename's intent is the tree sync's to settle; it says nothing of this folder's copies.
        var open = store.Journal.Open(context.ReplicaId, folder.PrimaryName).Where(e => e.Operation != FolderRenameIntents.Operation).ToList();
        // A folder with held deletions is read whole: its checkpoint says "seen", but the deletions are still owed,
        // and only a full read finds them again (to hold them still, or to apply them once approved).
        var held = store.Holds.Find(context.ReplicaId, folder.PrimaryName, HoldKind.Messages) is not null;
        var full = request.Full || folder.PrimaryUidValidity is null || folder.ReplicaUidValidity is null || open.Count > 0 || held;
        // A delayed replica's flag removal that has fallen due is owed even when the primary shows no change.
        var delayedFlags = DelayedFlagRemovals.For(context, folder);
        if (!full && delayedFlags?.AnyDue != true && IsUnchanged(folder, request))
        {
            result.Outcome = FolderOutcome.Unchanged;
            return result;
        }

        // The folder's rows are read, and the replica opens it, while the primary opens it: on a folder of 100,000
        // messages the read and Dovecot's SELECT take 150-250 ms each. Only a replica folder that is missing waits for
        // the primary's answer, so that none is created for a folder the primary no longer has.
        var rowsRead = Task.Run(() => store.Messages.ForFolder(folder.Id), CancellationToken.None);
        var replicaOpening = context.Replica.SelectAsync(folder.ReplicaName, readOnly: false, null, cancellationToken);
        var knownPrimary = new Dictionary<uint, byte[]>();
        var knownReplica = new Dictionary<uint, byte[]>();

        SelectedMailbox primarySelected;
        try
        {
            primarySelected = await SelectPrimaryAsync(folder, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Whatever the primary answered, nothing started here is left running: no read of the state outlives
            // this sync, and no SELECT is still in flight on the replica's connection when the next command goes.
            await Task.WhenAll(rowsRead, replicaOpening).SettledAsync().ConfigureAwait(false);
        }
        var rows = await rowsRead.ConfigureAwait(false);
        context.Validities.Note(folder.PrimaryName, primarySelected.UidValidity);
        if (folder.PrimaryUidValidity is { } oldPrimary && oldPrimary != primarySelected.UidValidity)
        {
            // The folder was recreated on the primary: old UIDs mean nothing, but the replica copies and their MD5s stand.
            Log.UidValidityChanged(context.Logger, folder.PrimaryName, "primary", oldPrimary, primarySelected.UidValidity);
            foreach (var row in rows.Values) knownReplica[row.ReplicaUid] = row.Md5;
            rows.Clear();
            store.Messages.Clear(folder.Id);
            full = true;
        }

        var (replicaSelected, created) = await SelectReplicaAsync(folder, replicaOpening, cancellationToken).ConfigureAwait(false);
        if ((created && rows.Count > 0) || (folder.ReplicaUidValidity is { } oldReplica && oldReplica != replicaSelected.UidValidity))
        {
            // The replica folder was recreated: its UIDs changed, but the primary side and the MD5s stand.
            Log.UidValidityChanged(context.Logger, folder.PrimaryName, "replica", folder.ReplicaUidValidity ?? 0, replicaSelected.UidValidity);
            foreach (var row in rows.Values.Where(r => r.VanishedAt is null)) knownPrimary[row.PrimaryUid] = row.Md5;
            rows.Clear();
            store.InTransaction(() =>
            {
                store.Messages.Clear(folder.Id);
                store.Kept.Clear(folder.Id);
            });
            full = true;
        }

        var delta = !full && !context.Primary.Features.CondStore && request.Hints is { } hints
            ? await PrimaryDelta.FromHintsAsync(context.Primary, folder, primarySelected, rows, hints, cancellationToken).ConfigureAwait(false)
            : null;
        delta ??= await PrimaryDelta.ReadAsync(context.Primary, folder, primarySelected, rows, full, cancellationToken).ConfigureAwait(false);
        context.Logger.LogDebug("{Folder}: primary read by {How}: {New} new, {Flags} flags, {Vanished} expunged",
            folder.PrimaryName, delta.How, delta.New.Count, delta.Flags.Count, delta.Vanished.Count);
        var extras = await ReadReplicaAsync(folder, replicaSelected, rows, delta, knownPrimary, full, cancellationToken).ConfigureAwait(false);

        // Summaries (size, Message-ID, date) are what adoption and move discovery work from. An initial
        // copy has neither extras to adopt nor expunges to pair with, so it learns all that from the bodies.
        var needSummaries = !extras.IsEmpty || delta.New.Count <= SmallChange || store.Messages.OldestVanished(context.ReplicaId).Count > 0;
        var newSummaries = needSummaries ? await SummariesAsync(context.Primary, UidSet.FromUids(delta.New), cancellationToken).ConfigureAwait(false) : [];
        var extraSummaries = await SummariesAsync(context.Replica, extras, cancellationToken).ConfigureAwait(false);
        var plan = await new ContentMatcher(context.Primary, context.Replica)
            .MatchAsync(newSummaries, extraSummaries, knownPrimary, knownReplica, cancellationToken).ConfigureAwait(false);

        var newlyVanished = delta.Vanished.Where(u => rows[u].VanishedAt is null).ToList();
        // Expunges already accepted (pushed, or past the guard) and waiting out the move window are not weighed again.
        var accepted = (uint)rows.Values.Count(r => r.VanishedAt is not null);
        var deletions = newlyVanished.Count + plan.UnmatchedExtras.Count;
        var continuous = folder.PrimaryUidValidity == primarySelected.UidValidity;
        // A push that arrives while deletions are held vouches for itself, not for what was held before it.
        // An archive deletes nothing, so it has nothing to hold.
        var approved = request.Force || context.Policy.Keeps || store.Holds.IsApproved(context.ReplicaId, folder.PrimaryName, HoldKind.Messages);
        var holdReason = approved ? null : DeleteGuard.Check(
            new GuardFacts(folder.PrimaryName, deletions, replicaSelected.Exists - Math.Min(accepted, replicaSelected.Exists), primarySelected.Exists, request.Witnessed && continuous && !held, continuous, folder.PrimaryMessages,
            DeleteGuard.RecentLow(folder, started)), context.Options);
        // A hold stands until it is approved or the primary no longer asks for the deletions: weighed afresh, it would
        // wear away as new mail grows the folder or the primary's size creeps back, and go through unapproved.
        if (holdReason is null && held && !approved && deletions > context.Options.MaxDeleteFloor)
            holdReason = store.Holds.Find(context.ReplicaId, folder.PrimaryName, HoldKind.Messages)!.Reason;
        if (holdReason is not null)
        {
            // Only the deletions wait: new mail, adoptions and flag changes still go through.
            result.Outcome = FolderOutcome.Held;
            result.Message = holdReason;
            result.HeldDeletions = deletions;
        }

        Adopt(folder, plan.Adoptions, rows, result);
        // On an archive (which holds nothing back), this folder's expunges are noted before its new mail is copied: a message
        // expunged and appended again here is then taken back from its old copy, not kept beside a new one.
        // The rows in hand are noted too: the copy may take one of them back, and only rows noted expunged are read again after it.
        if (context.Policy.Keeps && newlyVanished.Count > 0)
        {
            store.Messages.MarkVanished(folder.Id, newlyVanished);
            foreach (var uid in newlyVanished) rows[uid] = rows[uid] with { VanishedAt = started };
        }
        var copier = new MessageCopier(context, folder, result, _moves);
        if (needSummaries)
        {
            await _moves.DiscoverSourcesAsync(folder, plan.ToCopy, cancellationToken).ConfigureAwait(false);
            await copier.CopyAsync(UidSet.FromUids(plan.ToCopy.Select(m => m.Uid)), plan.ToCopy.ToDictionary(m => m.Uid), replicaSelected, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await copier.CopyAsync(UidSet.FromUids(delta.New), delta.Attributes, replicaSelected, cancellationToken).ConfigureAwait(false);
        }
        var wantedFlags = new Dictionary<uint, MessageFlags>(delta.Flags);
        foreach (var a in plan.Adoptions) wantedFlags[a.Primary.Uid] = a.Primary.Flags;
        if (RowsReadAfterCopy(folder, replicaSelected, rows, wantedFlags, newlyVanished, delayedFlags))
            ReadRowsAfterCopy(folder, rows, needSummaries ? plan.ToCopy.Select(m => m.Uid) : delta.New);
        // Where the copy's flags differ for a reason of the replica's own (an adopted copy, a change behind Observer's back), no removal waits.
        var replicaOwn = plan.Adoptions.Select(a => a.Primary.Uid).ToHashSet();
        delayedFlags?.AddDue(wantedFlags, rows);
        await RestoreReplicaFlagsAsync(folder, replicaSelected, rows, wantedFlags, delayedFlags, replicaOwn, cancellationToken).ConfigureAwait(false);
        await SetFlagsAsync(folder, replicaSelected, rows, wantedFlags, delayedFlags, replicaOwn, result, cancellationToken).ConfigureAwait(false);

        if (holdReason is null && newlyVanished.Count > 0)
        {
            store.Messages.MarkVanished(folder.Id, newlyVanished);
            result.Vanished = newlyVanished.Count;
        }
        if (holdReason is null)
        {
            await RemoveExtrasAsync(folder, plan.UnmatchedExtras, result, cancellationToken).ConfigureAwait(false);
            var notedNow = newlyVanished.ToHashSet();
            // A delayed replica's expunges all wait out the delay, however small the message.
            var due = context.Policy.Delays || context.DefersExpunges ? [] : NeverMoved(rows, notedNow);
            result.Expunged = await PendingExpunges.ExpungeSelectedAsync(context, folder, due, cancellationToken).ConfigureAwait(false);
            result.Vanished += due.Count(r => !notedNow.Contains(r.PrimaryUid));
        }

        uint? accountedTo = open.Count > 0
            ? await new LateArrivals(context, folder).CheckAsync(replicaSelected, extras, open, result, cancellationToken).ConfigureAwait(false)
            : null;

        // Where this sync wrote nothing there, the first SELECT still stands; a change by anyone else since shows next time.
        var after = result.WroteToReplica
            ? await ReplicaAfterWritesAsync(folder, cancellationToken).ConfigureAwait(false)
            : new MailboxStatus { Messages = replicaSelected.Exists, UidNext = replicaSelected.UidNext, HighestModSeq = replicaSelected.HighestModSeq };
        // While deletions are held, the size before them stays the measure the guard compares with.
        var primaryMessages = holdReason is not null ? folder.PrimaryMessages : primarySelected.Exists;
        var (low, lowAt) = DeleteGuard.RememberLow(folder, primarySelected.UidValidity, primaryMessages, started);
        store.InTransaction(() =>
        {
            store.Folders.SaveCheckpoint(folder with
            {
                PrimaryUidValidity = primarySelected.UidValidity,
                PrimaryUidNext = primarySelected.UidNext,
                // A message the primary did not deliver must be looked at again: no mod-sequence
                // to start from means the next sync reads the whole folder.
                PrimaryModSeq = result.NotDelivered > 0 ? null : primarySelected.HighestModSeq,
                PrimaryMessages = primaryMessages,
                PrimaryLow = low,
                PrimaryLowAt = lowAt,
                ReplicaUidValidity = replicaSelected.UidValidity,
                // From an arrival that could not be accounted for, or past what was looked at, the next pass reads the replica folder again.
                ReplicaUidNext = after.UidNext > accountedTo ? accountedTo : after.UidNext,
                ReplicaModSeq = after.HighestModSeq,
                ReplicaMessages = after.Messages,
            }, started);
            // A full pass has accounted for every copy on the replica, so nothing begun is left in doubt.
            if (full) store.Journal.Resolve(context.ReplicaId, folder.PrimaryName);
        });
        // Not sure the folder is whole: a one-shot sync says so rather than "up to date", and so does the log.
        if ((result.Refused > 0 || result.NotSent > 0) && holdReason is null) result.Outcome = FolderOutcome.Incomplete;
        if (result.ChangedAnything || result.Outcome is FolderOutcome.Incomplete)
            Log.FolderSynced(context.Logger, folder.PrimaryName, result.Outcome is FolderOutcome.Incomplete ? result.Summary() : result.Counts(), clock.ElapsedMilliseconds);
        else if (holdReason is null) result.Outcome = FolderOutcome.Unchanged;
        return result;
    }

    /// <summary>
    /// Whether a step after the copy reads the folder's rows: flags to set or put back, held flag removals, expunges.
    /// Those steps need the rows as the copy and any moves left them, so they are read again. A folder's first copy
    /// needs none of it: read again, its rows added 10-15 MB to the peak of a 100,000-message copy.
    /// Skipped, the only difference is where an expunge noted meanwhile by another connection goes: to the pass's flush.
    /// </summary>
    private bool RowsReadAfterCopy(FolderRecord folder, SelectedMailbox replica, Dictionary<uint, MessageRecord> rows,
        Dictionary<uint, MessageFlags> wantedFlags, List<uint> newlyVanished, DelayedFlagRemovals? delayedFlags) =>
        wantedFlags.Count > 0 || newlyVanished.Count > 0 || delayedFlags is not null
        || ReplicaFlagsMayHaveChanged(folder, replica) || rows.Values.Any(r => r.VanishedAt is not null);

    /// <summary>
    /// The replica folder as this sync's writes left it, for the checkpoint that the next LIST-STATUS is compared with.
    /// RFC 3501 advises against STATUS on the selected mailbox, so the folder is closed first where the server can
    /// (UNSELECT); elsewhere it is selected again. Dovecot opens a big Maildir folder just written to again from its
    /// files: 200 ms for SELECT of 100,000 messages, against 55 ms for STATUS.
    /// </summary>
    private async Task<MailboxStatus> ReplicaAfterWritesAsync(FolderRecord folder, CancellationToken cancellationToken)
    {
        if (!context.Replica.Features.Unselect)
        {
            var selected = await context.Replica.SelectAsync(folder.ReplicaName, readOnly: false, null, cancellationToken).ConfigureAwait(false);
            return new MailboxStatus { Messages = selected.Exists, UidNext = selected.UidNext, HighestModSeq = selected.HighestModSeq };
        }
        await context.Replica.UnselectAsync(cancellationToken).ConfigureAwait(false);
        return await context.Replica.StatusAsync(folder.ReplicaName, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Brings <paramref name="rows"/> to what the state holds after copying <paramref name="copied"/>: the copy writes
    /// rows only for those UIDs, and a move or a message taken back changes only rows noted expunged. The rest of the
    /// folder is as it was read, so only these are read again, not all of a big folder.
    /// </summary>
    private void ReadRowsAfterCopy(FolderRecord folder, Dictionary<uint, MessageRecord> rows, IEnumerable<uint> copied)
    {
        var from = copied.DefaultIfEmpty(uint.MaxValue).Min();
        foreach (var stale in rows.Values.Where(r => r.PrimaryUid >= from || r.VanishedAt is not null).ToList()) rows.Remove(stale.PrimaryUid);
        foreach (var row in context.Store.Messages.ForFolderFrom(folder.Id, from)) rows[row.PrimaryUid] = row;
    }

    /// <summary>
    /// Expunged copies too small ever to be moved (<see cref="MoveReplayer"/>), noted before or <paramref name="notedNow"/>:
    /// they need not wait out the move window or the end of the pass, and go now, while their folder is selected
    /// on the replica anyway. Another folder's move only ever takes a copy large enough to move, so the rows read
    /// after the copy still hold every small one.
    /// </summary>
    private List<MessageRecord> NeverMoved(Dictionary<uint, MessageRecord> rows, HashSet<uint> notedNow) =>
        rows.Values.Where(r => (r.VanishedAt is not null || notedNow.Contains(r.PrimaryUid)) && !_moves.WorthMoving(r.Size)).ToList();

    /// <summary>
    /// Only notes what the primary expunged in this folder, copying nothing and keeping the checkpoint.
    /// Run over every changed folder first, it lets the other end of a move find the copy to MOVE.
    /// Only for folders a watcher reported while live: those expunges are the user's own, past the delete guard.
    /// </summary>
    public async Task MarkVanishedAsync(FolderRecord folder, CancellationToken cancellationToken)
    {
        if (folder.PrimaryUidValidity is null) return;
        // Deletions the guard holds are not the user's own until approved: noted here, they would be flushed past the hold.
        if (context.Store.Holds.Find(context.ReplicaId, folder.PrimaryName, HoldKind.Messages) is not null) return;
        var rows = context.Store.Messages.ForFolder(folder.Id);
        if (rows.Count == 0) return;
        var selected = await context.Primary.SelectAsync(folder.PrimaryName, readOnly: true, null, cancellationToken).ConfigureAwait(false);
        if (selected.UidValidity != folder.PrimaryUidValidity) return;
        var delta = await PrimaryDelta.ReadAsync(context.Primary, folder, selected, rows, full: false, cancellationToken).ConfigureAwait(false);
        var newly = delta.Vanished.Where(u => rows[u].VanishedAt is null).ToList();
        if (newly.Count == 0) return;
        context.Store.Messages.MarkVanished(folder.Id, newly);
    }

    /// <summary>
    /// Opens the primary folder. One that no longer exists (renamed or deleted since the tree was read;
    /// Cyrus even tells an IDLE watcher its messages vanished) is reported as gone, for the tree sync.
    /// </summary>
    private async Task<SelectedMailbox> SelectPrimaryAsync(FolderRecord folder, CancellationToken cancellationToken)
    {
        try
        {
            return await context.Primary.SelectAsync(folder.PrimaryName, readOnly: true, null, cancellationToken).ConfigureAwait(false);
        }
        catch (ImapCommandException ex) when (ex.Condition == ResponseCondition.No)
        {
            var listed = (await context.Primary.ListAsync(false, cancellationToken).ConfigureAwait(false)).Any(m => m.Mailbox.Name == folder.PrimaryName);
            if (listed)
            {
                if (await context.Primary.AnswersStatusAsync(folder.PrimaryName, cancellationToken).ConfigureAwait(false)) throw;
                context.Phantoms.Add(folder.PrimaryName);
            }
            throw new FolderVanishedException(folder.PrimaryName, ex);
        }
    }

    /// <summary>Both sides' STATUS (from LIST-STATUS) equal the checkpoint: nothing to do, no SELECT needed.</summary>
    internal static bool IsUnchanged(FolderRecord folder, SyncRequest request) =>
        request.PrimaryStatus is { } p && request.ReplicaStatus is { } r
        && p.HighestModSeq is not null && r.HighestModSeq is not null
        && p.UidValidity == folder.PrimaryUidValidity && p.UidNext == folder.PrimaryUidNext
        && p.Messages == folder.PrimaryMessages && p.HighestModSeq == folder.PrimaryModSeq
        && r.UidValidity == folder.ReplicaUidValidity && r.UidNext == folder.ReplicaUidNext
        && r.Messages == folder.ReplicaMessages && r.HighestModSeq == folder.ReplicaModSeq;

    /// <param name="opening">The SELECT already sent; a folder it finds missing is created here, then selected.</param>
    private async Task<(SelectedMailbox Selected, bool Created)> SelectReplicaAsync(FolderRecord folder, Task<SelectedMailbox> opening, CancellationToken cancellationToken)
    {
        try
        {
            return (await opening.ConfigureAwait(false), false);
        }
        catch (ImapCommandException ex) when (ex.Code?.Kind is ResponseCodeKind.NonExistent or ResponseCodeKind.TryCreate || ex.Condition == ResponseCondition.No)
        {
            var exists = (await context.Replica.ListAsync(false, cancellationToken).ConfigureAwait(false)).Any(m => m.Mailbox.Name == folder.ReplicaName && m.Mailbox.IsSelectable);
            if (exists) throw;
            await context.Replica.CreateAsync(folder.ReplicaName, cancellationToken).ConfigureAwait(false);
            Log.FolderCreated(context.Logger, folder.PrimaryName, folder.ReplicaName);
            return (await context.Replica.SelectAsync(folder.ReplicaName, readOnly: false, null, cancellationToken).ConfigureAwait(false), true);
        }
    }

    /// <summary>
    /// Finds replica messages we do not track (left by a crash, or there before us) and tracked copies
    /// that disappeared (deleted behind our back, to be copied again). Cheap when nothing changed.
    /// </summary>
    private async Task<UidSet> ReadReplicaAsync(FolderRecord folder, SelectedMailbox selected, Dictionary<uint, MessageRecord> rows,
        PrimaryDelta delta, Dictionary<uint, byte[]> knownPrimary, bool full, CancellationToken cancellationToken)
    {
        var keptCount = context.Policy.Keeps ? context.Store.Kept.Count(folder.Id) : 0;
        var looksUntouched = selected.UidNext == folder.ReplicaUidNext && selected.Exists == rows.Count + keptCount;
        if (!full && looksUntouched) return UidSet.Empty;
        var kept = keptCount > 0 ? context.Store.Kept.ReplicaUids(folder.Id) : [];
        var present = selected.Exists == 0 ? [] : (await context.Replica.SearchAsync(SearchQuery.All, cancellationToken).ConfigureAwait(false)).Expand().ToHashSet();
        // A kept copy someone removed from the archive by hand is nothing to keep track of; the others are known, not strays.
        if (kept.Count > 0) context.Store.Kept.Forget(folder.Id, kept.Where(u => !present.Contains(u)));
        var lost = rows.Values.Where(r => !present.Contains(r.ReplicaUid)).ToList();
        if (lost.Count > 0)
        {
            context.Store.Messages.Remove(folder.Id, lost.Select(r => r.PrimaryUid));
            foreach (var row in lost)
            {
                rows.Remove(row.PrimaryUid);
                delta.Flags.Remove(row.PrimaryUid);
                // Both sets must forget the row, even one already known to be expunged: another folder's
                // sync may have just moved its replica copy away, while the primary reports the expunge again.
                var expunged = delta.Vanished.Remove(row.PrimaryUid);
                if (row.VanishedAt is not null || expunged) continue;
                knownPrimary[row.PrimaryUid] = row.Md5;
                delta.New.Add(row.PrimaryUid);
            }
        }
        var tracked = rows.Values.Select(r => r.ReplicaUid).Concat(kept).ToHashSet();
        return UidSet.FromUids(present.Where(u => !tracked.Contains(u)));
    }

    private static async Task<IReadOnlyList<MessageSummary>> SummariesAsync(IMailSession session, UidSet set, CancellationToken cancellationToken)
    {
        if (set.IsEmpty) return [];
        using var fetched = await session.FetchSummariesAsync(set, cancellationToken).ConfigureAwait(false);
        return fetched.Messages.Select(MessageSummary.From).OrderBy(m => m.Uid).ToList();
    }

    private void Adopt(FolderRecord folder, IReadOnlyList<ContentMatcher.Adoption> adoptions, Dictionary<uint, MessageRecord> rows, FolderSyncResult result)
    {
        if (adoptions.Count == 0) return;
        var records = adoptions.Select(a => new MessageRecord
        {
            FolderId = folder.Id,
            PrimaryUid = a.Primary.Uid,
            ReplicaUid = a.Replica.Uid,
            Md5 = a.Md5,
            Size = a.Primary.Size,
            InternalDate = a.Primary.InternalDate,
            // What the replica copy carries now; the flag pass brings it to the primary's.
            Flags = a.Replica.Flags.ToString(),
            MessageId = a.Primary.MessageId,
        }).ToList();
        context.Store.Messages.Put(records);
        foreach (var r in records)
        {
            rows[r.PrimaryUid] = r;
            Log.Adopted(context.Logger, folder.PrimaryName, r.PrimaryUid, r.ReplicaUid, Md5.Hex(r.Md5));
        }
        result.Adopted = records.Count;
    }

    /// <summary>
    /// Flags changed on the replica since we last left it (seen through its CONDSTORE) are put back
    /// to what the primary says: the primary knows best.
    /// </summary>
    private async Task RestoreReplicaFlagsAsync(FolderRecord folder, SelectedMailbox selected, Dictionary<uint, MessageRecord> rows,
        Dictionary<uint, MessageFlags> wanted, DelayedFlagRemovals? delayed, HashSet<uint> replicaOwn, CancellationToken cancellationToken)
    {
        if (!ReplicaFlagsMayHaveChanged(folder, selected) || folder.ReplicaModSeq is not { } since) return;
        using var changed = await context.Replica.FetchFlagsAsync(UidSet.All, since, cancellationToken).ConfigureAwait(false);
        var byReplicaUid = rows.Values.Where(r => r.VanishedAt is null).ToDictionary(r => r.ReplicaUid);
        foreach (var m in changed.Messages)
        {
            if (m.Uid is not { } uid || !byReplicaUid.TryGetValue(uid, out var row)) continue;
            var actual = (m.Flags ?? MessageFlags.None).WithoutRecent();
            if (actual.Equals(MessageFlags.Parse(row.Flags))) continue;
            // Record what the replica really has, so the flag pass sees the difference.
            rows[row.PrimaryUid] = row with { Flags = actual.ToString() };
            wanted.TryAdd(row.PrimaryUid, delayed?.PrimaryFlags(row) ?? MessageFlags.Parse(row.Flags));
            replicaOwn.Add(row.PrimaryUid);
        }
    }

    private bool ReplicaFlagsMayHaveChanged(FolderRecord folder, SelectedMailbox selected) =>
        context.Replica.Features.CondStore && folder.ReplicaModSeq is { } since && selected.HighestModSeq is { } now && now != since;

    /// <param name="delayed">A delayed replica's held flag removals (or ones left from when it was one); null otherwise.</param>
    /// <param name="replicaOwn">Messages whose copy differs for a reason of the replica's own: no removal starts to wait for them.</param>
    private async Task SetFlagsAsync(FolderRecord folder, SelectedMailbox replica, Dictionary<uint, MessageRecord> rows, Dictionary<uint, MessageFlags> wanted,
        DelayedFlagRemovals? delayed, HashSet<uint> replicaOwn, FolderSyncResult result, CancellationToken cancellationToken)
    {
        var planned = wanted
            .Where(w => rows.TryGetValue(w.Key, out var row) && row.VanishedAt is null)
            .Select(w => (Row: rows[w.Key], Plan: delayed?.PlanFor(rows[w.Key], w.Value, fromPrimary: !replicaOwn.Contains(w.Key))
                                                  ?? new DelayedFlagRemovals.Plan(w.Value, [], [])))
            .ToList();
        var changes = planned.Where(c => !c.Plan.Set.Equals(MessageFlags.Parse(c.Row.Flags))).Select(c => (c.Row, Flags: c.Plan.Set, c.Plan)).ToList();
        // A hold that starts or ends without a STORE (the copy already carries what it should) is recorded on its own.
        if (delayed is not null)
        {
            var storeless = planned.Where(c => c.Plan.ChangesHolds && c.Plan.Set.Equals(MessageFlags.Parse(c.Row.Flags))).ToList();
            // The record is written too: the copy may carry what it should only since a change made on the replica itself.
            if (storeless.Count > 0)
                context.Store.InTransaction(() =>
                {
                    context.Store.Messages.SetFlags(folder.Id, storeless.Select(c => (c.Row.PrimaryUid, c.Plan.Set.ToString())));
                    delayed.Save(storeless.Select(c => c.Plan));
                });
        }
        // One STORE per distinct set of flags: a whole folder marked read is one command.
        foreach (var group in changes.GroupBy(c => c.Flags.ToString()))
        {
            var items = group.ToList();
            var journal = context.Store.Journal.Begin(new JournalEntry
            {
                ReplicaId = context.ReplicaId,
                Folder = folder.PrimaryName,
                Operation = "store",
                Detail = $"FLAGS ({group.Key}) on {items.Count} messages",
            });
            await StoreFittingAsync(folder, replica, UidSet.FromUids(items.Select(i => i.Row.ReplicaUid)), items[0].Flags, cancellationToken).ConfigureAwait(false);
            context.Store.InTransaction(() =>
            {
                context.Store.Messages.SetFlags(folder.Id, items.Select(i => (i.Row.PrimaryUid, group.Key)));
                delayed?.Save(items.Select(i => i.Plan));
                context.Store.Journal.Complete([journal]);
            });
            foreach (var (row, flags, _) in items) Log.FlagsSet(context.Logger, folder.PrimaryName, row.PrimaryUid, row.ReplicaUid, flags.ToString());
            result.FlagsSet += items.Count;
        }
    }

    /// <summary>
    /// Sets flags; where the folder cannot hold more keywords, sets what it can and reports the rest once.
    /// The record then keeps the primary's flags, so later passes do not try again what cannot fit.
    /// </summary>
    private async Task StoreFittingAsync(FolderRecord folder, SelectedMailbox replica, UidSet uids, MessageFlags flags, CancellationToken cancellationToken)
    {
        try
        {
            await context.Replica.SetFlagsAsync(uids, flags, cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (ImapCommandException refusal) when (TroubleTracker.ConcernsTheMessages(refusal) && KeywordFit.SystemOnly(flags) is not null)
        {
            var fewer = KeywordFit.Trim(flags, replica) ?? KeywordFit.SystemOnly(flags)!;
            try
            {
                await context.Replica.SetFlagsAsync(uids, fewer, cancellationToken).ConfigureAwait(false);
            }
            catch (ImapCommandException again) when (TroubleTracker.ConcernsTheMessages(again) && !fewer.Equals(KeywordFit.SystemOnly(flags)))
            {
                fewer = KeywordFit.SystemOnly(flags)!;
                await context.Replica.SetFlagsAsync(uids, fewer, cancellationToken).ConfigureAwait(false);
            }
            if (context.Notices.First($"keywords/{context.ReplicaId}/{folder.PrimaryName}"))
                Log.KeywordsDropped(context.Logger, folder.PrimaryName, KeywordFit.Dropped(flags, fewer), TroubleTracker.Describe(refusal));
        }
    }

    private async Task RemoveExtrasAsync(FolderRecord folder, IReadOnlyList<MessageSummary> extras, FolderSyncResult result, CancellationToken cancellationToken)
    {
        if (extras.Count == 0) return;
        // A message the primary does not have may be what a delayed replica or an archive is there to keep
        // (a folder recreated on the primary leaves its old copies unmatched): they never remove one on their own.
        if (context.Policy.ToleratesExtras)
        {
            if (context.Notices.First($"extras/{context.ReplicaId}/{folder.PrimaryName}")) Log.ExtrasLeft(context.Logger, folder.PrimaryName, extras.Count, context.Policy.Mode);
            return;
        }
        if (context.Rescue is { } rescue)
        {
            extras = await rescue.KeepOwnAsync(context, folder, extras, cancellationToken).ConfigureAwait(false);
            if (extras.Count == 0) return;
        }
        await ExtraRemoval.ExpungeAsync(context, folder, UidSet.FromUids(extras.Select(e => e.Uid)), "", cancellationToken).ConfigureAwait(false);
        foreach (var e in extras) Log.RemovedExtra(context.Logger, folder.PrimaryName, e.Uid);
        result.ExtrasRemoved = extras.Count;
    }
}

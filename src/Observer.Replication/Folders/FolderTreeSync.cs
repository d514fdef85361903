using Microsoft.Extensions.Logging;
using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// Makes the replica's folder tree follow the primary's: renames (as RENAME, never delete and
/// re-upload), creates, deletes (held back if most folders would go at once) and subscriptions.
/// </summary>
internal sealed class FolderTreeSync(SyncContext context, FolderFilter filter, TroubleTracker troubles)
{
    public sealed class Result
    {
        public List<FolderRecord> Folders { get; } = [];
        public Dictionary<string, MailboxStatus> PrimaryStatus { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, MailboxStatus> ReplicaStatus { get; } = new(StringComparer.Ordinal);
        public int Created { get; set; }
        public int Renamed { get; set; }

        /// <summary>The new names of folders renamed in this sync: changes may have raced the rename.</summary>
        public List<string> RenamedTo { get; } = [];
        public int Deleted { get; set; }

        /// <summary>Folders whose creation, rename or deletion could not be replayed, with why.</summary>
        public List<(string Folder, string Problem)> Problems { get; } = [];
    }

    /// <summary>
    /// Called between replica writes once the tree sync has taken longer than the context's
    /// <see cref="SyncContext.TreeWriteBudget"/>: lets new mail in INBOX go first (live only).
    /// </summary>
    public Func<CancellationToken, Task>? BetweenWrites { get; init; }

    /// <summary>
    /// Told, once both lists are read, what they show (see <see cref="ListedTree"/>), so that a pass can open
    /// its extra connections, and start on the folders this sync leaves alone, while the tree is still written.
    /// </summary>
    public Action<ListedTree>? Listed { get; init; }

    private long _writingSince;

    public async Task<Result> SyncAsync(IReadOnlyList<(string Old, string New)> renameHints, bool force, CancellationToken cancellationToken) =>
        await SyncAsync(renameHints, ListingDoubt.None, force, cancellationToken).ConfigureAwait(false);

    public async Task<Result> SyncAsync(IReadOnlyList<(string Old, string New)> renameHints, ListingDoubt doubt, bool force, CancellationToken cancellationToken)
    {
        var result = new Result();
        var store = context.Store;
        _writingSince = context.Time.GetTimestamp();
        var listing = new FolderListing(context);
        // Both lists at once: on a big Maildir each LIST-STATUS costs its server a tenth of a second or more.
        var primaryListing = listing.ReadAsync(ServerRole.Primary, doubt, cancellationToken);
        var replicaListing = listing.ReadAsync(ServerRole.Replica, doubt, cancellationToken);
        await Task.WhenAll(primaryListing, replicaListing).ConfigureAwait(false);
        var primaryList = primaryListing.Result;
        var replicaList = replicaListing.Result.ToList();
        var primary = primaryList.Where(m => m.Mailbox.IsSelectable && filter.Includes(m.Mailbox.Name)).ToDictionary(m => m.Mailbox.Name, StringComparer.Ordinal);
        context.Validities.Note(primary.Values);
        // A \Noselect name above a child is no folder: Courier lists one for a child made under a parent that
        // does not exist, and a primary folder of that name must still be created there.
        var replicaNames = replicaList.Where(m => m.Mailbox.IsSelectable).Select(m => m.Mailbox.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var phantom in context.Phantoms.All)
        {
            if (!primary.ContainsKey(phantom)) context.Phantoms.Remove(phantom);
            else if (await context.Primary.AnswersStatusAsync(phantom, cancellationToken).ConfigureAwait(false)) context.Phantoms.Remove(phantom);
            else primary.Remove(phantom);
        }

        foreach (var m in primaryList.Where(m => m.Status is not null)) result.PrimaryStatus[m.Mailbox.Name] = m.Status!;
        foreach (var m in replicaList.Where(m => m.Status is not null)) result.ReplicaStatus[m.Mailbox.Name] = m.Status!;
        Listed?.Invoke(new ListedTree(LooksChanged(primary, result), Settled(primary, replicaNames, renameHints), result.PrimaryStatus, result.ReplicaStatus));
        if (!filter.Scoped) await RenameAsync(primary, replicaNames, renameHints, listing, result, cancellationToken).ConfigureAwait(false);
        await DeleteAsync(primary, replicaNames, force, result, cancellationToken).ConfigureAwait(false);
        if (!filter.Scoped || !MaybeRenamed(primaryList)) await CreateAsync(primary, replicaNames, result, cancellationToken).ConfigureAwait(false);

        var state = store.Folders.All(context.ReplicaId);
        var replicated = state.Select(f => f.PrimaryName).Concat(primary.Keys).ToHashSet(StringComparer.Ordinal);
        store.Troubles.Prune(context.ReplicaId, replicated);
        store.Holds.Prune(context.ReplicaId, replicated);
        await SubscriptionsAsync(state, primary, replicaList, cancellationToken).ConfigureAwait(false);

        result.Folders.AddRange(state.Where(f => primary.ContainsKey(f.PrimaryName))
            .OrderBy(f => FolderNameMapper.IsInbox(f.PrimaryName) ? 0 : 1).ThenBy(f => f.PrimaryName, StringComparer.Ordinal));
        ReplicationMetrics.Wrote(context.Target, "create", result.Created);
        ReplicationMetrics.Wrote(context.Target, "rename", result.Renamed);
        ReplicationMetrics.Wrote(context.Target, "delete", result.Deleted);
        return result;
    }

    /// <summary>
    /// Folders this sync cannot touch, when it will only create folders: listed on both sides under the names
    /// the state knows, the primary's with the UIDVALIDITY the state knows. None when any folder of the state
    /// is gone from the primary's list (a rename carries children along, a deletion may take the source of a
    /// move) or a rename is still to be settled.
    /// </summary>
    private List<FolderRecord> Settled(Dictionary<string, MailboxWithStatus> primary, HashSet<string> replicaNames, IReadOnlyList<(string Old, string New)> renameHints)
    {
        var state = context.Store.Folders.All(context.ReplicaId);
        if (renameHints.Count > 0 || state.Any(f => filter.Includes(f.PrimaryName) && !primary.ContainsKey(f.PrimaryName))
            || context.Store.Journal.Open(context.ReplicaId).Any(e => e.Operation == FolderRenameIntents.Operation))
            return [];
        return state.Where(f => primary.TryGetValue(f.PrimaryName, out var listed) && listed.Status?.UidValidity is { } validity
            && validity == f.PrimaryUidValidity && replicaNames.Contains(f.ReplicaName)).ToList();
    }

    private int LooksChanged(Dictionary<string, MailboxWithStatus> primary, Result listed)
    {
        var known = context.Store.Folders.All(context.ReplicaId).ToDictionary(f => f.PrimaryName, StringComparer.Ordinal);
        return primary.Values.Count(m => !known.TryGetValue(m.Mailbox.Name, out var folder)
            || !FolderSynchronizer.IsUnchanged(folder, new SyncRequest { PrimaryStatus = m.Status, ReplicaStatus = listed.ReplicaStatus.GetValueOrDefault(folder.ReplicaName) }));
    }

    private async Task RenameAsync(Dictionary<string, MailboxWithStatus> primary, HashSet<string> replicaNames,
        IReadOnlyList<(string Old, string New)> hints, FolderListing listing, Result result, CancellationToken cancellationToken)
    {
        var store = context.Store;
        var intents = new FolderRenameIntents(context);
        result.RenamedTo.AddRange(await intents.SettleAsync(replicaNames, listing, LetNewMailInAsync, cancellationToken).ConfigureAwait(false));
        var detector = new RenameDetector(context, primary);
        var refused = new HashSet<string>(StringComparer.Ordinal);
        // A gone folder's target, found once: rounds only take new names. (A parent renamed away from children the
        // primary still lists can make names new again; a "none" kept from before then lets that folder be deleted
        // and copied afresh: slower, still right.)
        var found = new Dictionary<string, string?>(StringComparer.Ordinal);
        while (true)
        {
            var state = store.Folders.All(context.ReplicaId);
            var known = state.Select(f => f.PrimaryName).ToHashSet(StringComparer.Ordinal);
            var fresh = primary.Keys.Where(n => !known.Contains(n)).ToList();
            var renamed = false;
            var underNewParents = new List<(FolderRecord Gone, string Target)>();
            // Parents first: renaming a parent carries its children along.
            foreach (var gone in state.Where(f => !primary.ContainsKey(f.PrimaryName) && filter.Includes(f.PrimaryName) && !refused.Contains(f.PrimaryName)).OrderBy(f => f.PrimaryName.Length))
            {
                if (!found.TryGetValue(gone.PrimaryName, out var target) || (target is not null && !fresh.Contains(target)))
                    found[gone.PrimaryName] = target = hints.Where(h => h.Old == gone.PrimaryName && fresh.Contains(h.New)).Select(h => h.New).FirstOrDefault()
                        ?? await detector.FindAsync(gone, fresh, cancellationToken).ConfigureAwait(false);
                if (target is null) continue;
                // A target whose parent is new too may be a child that a renamed parent carries along, taken
                // for a shorter-named folder emptied into it: renaming that one first would make the parent
                // on the replica (Courier), and the parent's own RENAME would then be refused ("File exists").
                if (HasNewAncestor(target, fresh))
                {
                    underNewParents.Add((gone, target));
                    continue;
                }
                if (renamed = await RenameOneAsync(gone, target)) break;
            }
            if (renamed) continue;
            if (underNewParents.Count == 0) return;
            // The shortest new name first, as a parent's. Whether renamed or refused, that folder is settled: look again at the rest.
            var (lastGone, lastTarget) = underNewParents.MinBy(c => c.Target.Length);
            await RenameOneAsync(lastGone, lastTarget).ConfigureAwait(false);
        }

        // False when the folder was left alone, to be deleted; true when it was renamed, or its RENAME refused.
        async Task<bool> RenameOneAsync(FolderRecord gone, string target)
        {
            var newReplicaName = context.Names.ToReplica(target);
            if (replicaNames.Contains(gone.ReplicaName) && replicaNames.Contains(newReplicaName))
            {
                // Both already exist (an earlier pass created the new one before it knew of the rename, and
                // lost the answer): mapping the old record to the new folder would orphan the old one. Let
                // the old folder take the deletion path and the new one be taken over as it is.
                refused.Add(gone.PrimaryName);
                return false;
            }
            long? intent = null;
            if (replicaNames.Contains(gone.ReplicaName))
            {
                if (context.Replica.SelectedFolder is not null) await context.Replica.UnselectAsync(cancellationToken).ConfigureAwait(false);
                intent = intents.Begin(gone, target, newReplicaName);
                try
                {
                    await context.Replica.RenameAsync(gone.ReplicaName, newReplicaName, cancellationToken).ConfigureAwait(false);
                }
                catch (ImapCommandException ex)
                {
                    intents.Abandon(intent.Value);
                    // Then it is a delete (under the guard) and a create with a fresh copy: slower, still right.
                    context.Logger.LogWarning("folder {Old} could not be renamed to {New} on the replica: {Reason}", gone.PrimaryName, target, TroubleTracker.Describe(ex));
                    refused.Add(gone.PrimaryName);
                    await LetNewMailInAsync(cancellationToken).ConfigureAwait(false);
                    return true;
                }
                var prefix = gone.ReplicaName + context.Names.ReplicaDelimiter;
                foreach (var name in replicaNames.Where(n => n == gone.ReplicaName || n.StartsWith(prefix, StringComparison.Ordinal)).ToList())
                {
                    replicaNames.Remove(name);
                    replicaNames.Add(newReplicaName + name[gone.ReplicaName.Length..]);
                }
            }
            intents.Apply(intent, gone, target, newReplicaName);
            result.Renamed++;
            result.RenamedTo.Add(target);
            // Renames cannot be left for later (a folder not yet renamed would be copied anew under its
            // new name), so on a slow replica new mail is let in between them instead.
            await LetNewMailInAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
    }

    private bool HasNewAncestor(string name, List<string> fresh)
    {
        if (context.Names.PrimaryDelimiter is not { } delimiter) return false;
        for (var at = name.LastIndexOf(delimiter); at > 0; at = name.LastIndexOf(delimiter, at - 1))
            if (fresh.Contains(name[..at])) return true;
        return false;
    }

    /// <summary>
    /// A pass that looks at some folders only cannot tell a new folder from a known one renamed (the other name may be
    /// outside what it looks at): while a folder the state knows is missing from the primary, it creates none, and a
    /// pass over every folder replays the rename instead of copying the folder again.
    /// </summary>
    private bool MaybeRenamed(IReadOnlyList<MailboxWithStatus> primaryList)
    {
        var listed = primaryList.Select(m => m.Mailbox.Name).ToHashSet(StringComparer.Ordinal);
        var missing = context.Store.Folders.All(context.ReplicaId)
            .FirstOrDefault(f => (filter.Includes(f.PrimaryName) || filter.OutOfScope(f.PrimaryName)) && !listed.Contains(f.PrimaryName));
        if (missing is not null)
            context.Logger.LogWarning("{Folder} is gone from the primary (renamed, or deleted): new folders wait for a sync of every folder, which can tell", missing.PrimaryName);
        return missing is not null;
    }

    private async Task DeleteAsync(Dictionary<string, MailboxWithStatus> primary, HashSet<string> replicaNames, bool force, Result result, CancellationToken cancellationToken)
    {
        var store = context.Store;
        var state = store.Folders.All(context.ReplicaId);
        foreach (var excluded in state.Where(f => !filter.Includes(f.PrimaryName) && !filter.OutOfScope(f.PrimaryName)))
        {
            store.Folders.Remove(excluded.Id);
            store.Troubles.Clear(context.ReplicaId, excluded.PrimaryName);
            store.Holds.Clear(context.ReplicaId, excluded.PrimaryName, HoldKind.Messages);
            store.Holds.Clear(context.ReplicaId, excluded.PrimaryName, HoldKind.Folder);
            store.Journal.Resolve(context.ReplicaId, excluded.PrimaryName);
        }
        var gone = state.Where(f => filter.Includes(f.PrimaryName) && !primary.ContainsKey(f.PrimaryName)).ToList();
        context.FolderDeletions.Retain(gone.Select(f => f.PrimaryName));
        foreach (var back in store.Holds.All(context.ReplicaId).Where(h => h.Kind == HoldKind.Folder && primary.ContainsKey(h.Folder)))
        {
            store.Holds.Clear(context.ReplicaId, back.Folder, HoldKind.Folder);
            Log.HoldReleased(context.Logger, back.Folder, "the folder is back on the primary");
        }
        // Only a pass that sees every folder can tell a deletion from a folder it was not asked to look at.
        if (gone.Count == 0 || filter.Scoped) return;
        // A held deletion stays held until it is approved or its folder is back. It is not counted again
        // below: each one would otherwise make every later deletion look like part of a mass one, and the
        // hold would grow for ever (seen in a 30-minute soak: one glitch of the primary's list, then 131).
        // An archive deletes no folder, so it has nothing to hold.
        force |= context.Policy.Keeps;
        var held = force ? [] : gone.Where(f => store.Holds.Find(context.ReplicaId, f.PrimaryName, HoldKind.Folder) is { ApprovedAt: null }).ToList();
        var candidates = gone.Except(held).ToList();
        var included = state.Where(f => filter.Includes(f.PrimaryName)).ToList();
        var present = included.Count - held.Count;
        if (!force && FolderVanishGuard.Check(candidates.Count, present, () => candidates.Sum(f => (long)store.Messages.Count(f.Id)),
                () => KeptMessages(primary, included), context.Options) is { } reason)
        {
            var approved = candidates.Where(f => store.Holds.IsApproved(context.ReplicaId, f.PrimaryName, HoldKind.Folder)).ToList();
            foreach (var folder in candidates.Except(approved))
            {
                var why = $"{reason}; check the primary, then run `observer approve {folder.PrimaryName}` (or `observer approve --all`)";
                if (store.Holds.Put(context.ReplicaId, folder.PrimaryName, HoldKind.Folder, store.Messages.Count(folder.Id), why))
                    Log.FolderDeleteHeld(context.Logger, folder.PrimaryName, why);
                held.Add(folder);
            }
            candidates = approved;
        }
        foreach (var folder in held)
            result.Problems.Add((folder.PrimaryName, store.Holds.Find(context.ReplicaId, folder.PrimaryName, HoldKind.Folder)?.Reason ?? "deletion held"));
        // A held deletion is not due: its clock would otherwise wake the service at once, for ever.
        context.FolderDeletions.Forget(held.Select(f => f.PrimaryName));
        gone = candidates;
        var started = context.Time.GetTimestamp();
        foreach (var folder in gone.OrderByDescending(f => f.PrimaryName.Length))
        {
            // Courier takes 2 s for each DELETE: a burst of deletions must not hold new mail back that long.
            // What is left stays due, and the live loop comes back for it after the folders with changes.
            if (context.TreeWriteBudget is { } budget && context.Time.GetElapsedTime(started) > budget)
            {
                context.FolderDeletions.Defer(folder.PrimaryName);
                continue;
            }
            try
            {
                // A folder missing from one LIST may be a glitch of the primary, not a deletion: only a
                // primary that answers NO to STATUS for it has really lost it.
                if (!context.FolderDeletions.IsDue(folder.PrimaryName))
                {
                    Log.FolderDeletePending(context.Logger, folder.PrimaryName, context.FolderDeletions.Delay.TotalSeconds);
                    continue;
                }
                if (await context.Primary.AnswersStatusAsync(folder.PrimaryName, cancellationToken).ConfigureAwait(false))
                {
                    // Looked at again a delay from now, so a folder really gone is not left behind until the next full pass.
                    context.Logger.LogWarning("folder {Folder} was missing from the primary's LIST but answers STATUS; not deleting it yet", folder.PrimaryName);
                    context.FolderDeletions.Restart(folder.PrimaryName);
                    continue;
                }
                // An archive's folder and everything in it stay; only observer's map of it goes with the primary's folder.
                if (!context.Policy.Keeps && context.Replica.SelectedFolder == folder.ReplicaName) await context.Replica.UnselectAsync(cancellationToken).ConfigureAwait(false);
                if (context.Policy.Keeps) Log.FolderKept(context.Logger, folder.PrimaryName);
                else if (replicaNames.Contains(folder.ReplicaName))
                {
                    if (!await DeleteOnReplicaAsync(folder, replicaNames, cancellationToken).ConfigureAwait(false))
                    {
                        // Kept in the state, so it is deleted once its children are gone; its clock starts again.
                        context.FolderDeletions.Forget([folder.PrimaryName]);
                        continue;
                    }
                }
                else await DeleteUnlistedOnReplicaAsync(folder.ReplicaName, cancellationToken).ConfigureAwait(false);
            }
            catch (ImapCommandException ex)
            {
                troubles.Record(folder.PrimaryName, "error", TroubleTracker.Describe(ex));
                result.Problems.Add((folder.PrimaryName, TroubleTracker.Describe(ex)));
                continue;
            }
            store.Folders.Remove(folder.Id);
            store.Troubles.Clear(context.ReplicaId, folder.PrimaryName);
            store.Holds.Clear(context.ReplicaId, folder.PrimaryName, HoldKind.Folder);
            // The replica folder went with every copy in it: nothing begun there is left to recover.
            store.Journal.Resolve(context.ReplicaId, folder.PrimaryName);
            context.FolderDeletions.Forget([folder.PrimaryName]);
            if (context.Policy.Keeps) continue;
            Log.FolderDeleted(context.Logger, folder.PrimaryName);
            result.Deleted++;
            await LetNewMailInAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The mail the primary still shows in the folders observer knows: folders of the state, listed with the
    /// UIDVALIDITY they had (or not yet copied whole, so none is known), so that another account's folders of
    /// the same names cannot vouch for ours. Counted as the primary lists them, not as far as observer has
    /// copied them: in the middle of a first copy, a user's deletions are not a broken primary's (a CI run that
    /// killed observer twenty times). INBOX never vouches: it is what a half-broken primary keeps (a mail spool
    /// beside a home it cannot read, Maildir++ folders it cannot open, a restore of INBOX alone). A primary
    /// without LIST-STATUS shows nothing here, and the guard counts folders alone, as it did.
    /// </summary>
    private static long KeptMessages(Dictionary<string, MailboxWithStatus> primary, IEnumerable<FolderRecord> state) =>
        state.Sum(f => !FolderNameMapper.IsInbox(f.PrimaryName) && primary.TryGetValue(f.PrimaryName, out var listed)
            && listed.Status is { Messages: { } messages, UidValidity: { } validity } && (f.PrimaryUidValidity is null || validity == f.PrimaryUidValidity)
                ? (long)messages
                : 0L);

    /// <summary>
    /// Deletes a folder on the replica. A folder that still has children there (kept on the primary,
    /// or held) cannot be deleted on every server ("Mailbox has children"): it is emptied instead and
    /// stays as their parent, as the primary's own parent does.
    /// </summary>
    /// <returns>False when the folder could only be emptied: it still has children on the replica.</returns>
    private async Task<bool> DeleteOnReplicaAsync(FolderRecord folder, HashSet<string> replicaNames, CancellationToken cancellationToken)
    {
        var prefix = folder.ReplicaName + context.Names.ReplicaDelimiter;
        try
        {
            await context.Replica.DeleteAsync(folder.ReplicaName, cancellationToken).ConfigureAwait(false);
            replicaNames.Remove(folder.ReplicaName);
            return true;
        }
        catch (ImapCommandException) when (replicaNames.Any(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            SelectedMailbox selected;
            try
            {
                selected = await context.Replica.SelectAsync(folder.ReplicaName, readOnly: false, null, cancellationToken).ConfigureAwait(false);
            }
            catch (ImapCommandException)
            {
                // Already no more than a name above its children (\Noselect): as deleted as it can be.
                replicaNames.Remove(folder.ReplicaName);
                return true;
            }
            if (selected.Exists > 0) await context.Replica.ExpungeAsync(UidSet.All, cancellationToken).ConfigureAwait(false);
            await context.Replica.UnselectAsync(cancellationToken).ConfigureAwait(false);
            context.Store.Messages.Clear(folder.Id);
            if (context.Notices.First($"parent/{context.ReplicaId}/{folder.PrimaryName}"))
                context.Logger.LogInformation("folder {Folder} has children on the replica; emptied it, and it is deleted once they are gone", folder.PrimaryName);
            return false;
        }
    }

    /// <summary>
    /// A folder in the state that the replica's LIST left out: never created (its CREATE was lost), or
    /// left out by a list that fell behind. DELETE tells which; forgetting it unasked could orphan a copy.
    /// </summary>
    private async Task DeleteUnlistedOnReplicaAsync(string replicaName, CancellationToken cancellationToken)
    {
        try
        {
            await context.Replica.DeleteAsync(replicaName, cancellationToken).ConfigureAwait(false);
            context.Logger.LogDebug("folder {Folder} was not listed by the replica, yet was there; deleted it", replicaName);
        }
        catch (ImapCommandException ex) when (ex.Condition == ResponseCondition.No)
        {
            // Not there: nothing to delete.
        }
    }

    private async Task CreateAsync(Dictionary<string, MailboxWithStatus> primary, HashSet<string> replicaNames, Result result, CancellationToken cancellationToken)
    {
        var store = context.Store;
        var state = store.Folders.All(context.ReplicaId);
        var known = state.Select(f => f.PrimaryName).ToHashSet(StringComparer.Ordinal);
        var taken = state.ToDictionary(f => f.ReplicaName, f => f.PrimaryName, StringComparer.Ordinal);
        foreach (var name in primary.Keys.Where(n => !known.Contains(n)).OrderBy(n => n.Length).ThenBy(n => n, StringComparer.Ordinal))
        {
            var replicaName = context.Names.ToReplica(name);
            if (taken.TryGetValue(replicaName, out var other))
            {
                // Two primary folders would share one replica folder and fight over its messages.
                var collision = $"{name} and {other} both become {replicaName} on the replica; rename one of them or exclude it with Replication:Folders:Exclude";
                troubles.Record(name, "name-collision", collision);
                result.Problems.Add((name, collision));
                continue;
            }
            // Recorded before the CREATE is sent, as every replica write is: if its answer is lost, the folder
            // is still known, so a primary that deletes it meanwhile has it deleted here too, not orphaned.
            var record = store.Folders.Add(context.ReplicaId, name, replicaName);
            if (!replicaNames.Contains(replicaName))
            {
                try
                {
                    await context.Replica.CreateAsync(replicaName, cancellationToken).ConfigureAwait(false);
                }
                catch (ImapCommandException ex) when (ex.Code?.Kind == ResponseCodeKind.AlreadyExists)
                {
                    // Created meanwhile, or listed under another case: either way it is there.
                }
                catch (ImapCommandException ex)
                {
                    if (!await ExistsOnReplicaAsync(replicaName, cancellationToken).ConfigureAwait(false))
                    {
                        store.Folders.Remove(record.Id);
                        troubles.Record(name, "error", TroubleTracker.Describe(ex));
                        result.Problems.Add((name, TroubleTracker.Describe(ex)));
                        continue;
                    }
                    // Made meanwhile as the parent of a renamed or created child (Cyrus makes parents real
                    // folders), or refused in words without the ALREADYEXISTS code: it is there, all the same.
                    context.Logger.LogDebug("folder {Folder} already exists on the replica ({Reason})", name, TroubleTracker.Describe(ex));
                }
                replicaNames.Add(replicaName);
                Log.FolderCreated(context.Logger, name, replicaName);
                result.Created++;
                await LetNewMailInAsync(cancellationToken).ConfigureAwait(false);
            }
            taken[replicaName] = name;
            troubles.Clear(name);
        }
    }

    private async Task LetNewMailInAsync(CancellationToken cancellationToken)
    {
        if (BetweenWrites is null || context.TreeWriteBudget is not { } budget || context.Time.GetElapsedTime(_writingSince) < budget) return;
        await BetweenWrites(cancellationToken).ConfigureAwait(false);
        _writingSince = context.Time.GetTimestamp();
    }

    private async Task<bool> ExistsOnReplicaAsync(string replicaName, CancellationToken cancellationToken) =>
        (await context.Replica.ListAsync(false, cancellationToken).ConfigureAwait(false)).Any(m => m.Mailbox.Name == replicaName && m.Mailbox.IsSelectable);

    private async Task SubscriptionsAsync(IReadOnlyList<FolderRecord> state, Dictionary<string, MailboxWithStatus> primary,
        List<MailboxWithStatus> replicaList, CancellationToken cancellationToken)
    {
        var replicaSubscribed = replicaList.Where(m => m.Mailbox.IsSubscribed).Select(m => m.Mailbox.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var folder in state)
        {
            if (!primary.TryGetValue(folder.PrimaryName, out var p)) continue;
            var wanted = p.Mailbox.IsSubscribed;
            if (wanted == replicaSubscribed.Contains(folder.ReplicaName)) continue;
            try
            {
                await context.Replica.SetSubscribedAsync(folder.ReplicaName, wanted, cancellationToken).ConfigureAwait(false);
                Log.Subscription(context.Logger, folder.PrimaryName, wanted ? "subscribed" : "unsubscribed");
            }
            catch (ImapCommandException ex)
            {
                context.Logger.LogWarning("folder {Folder} could not be {Action} on the replica: {Reason}", folder.PrimaryName,
                    wanted ? "subscribed" : "unsubscribed", TroubleTracker.Describe(ex));
            }
        }
    }
}

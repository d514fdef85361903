using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// Replays a move on the primary (expunged in one folder, the same bytes new in another) as a
/// MOVE (or COPY) on the replica, so the message is not uploaded again. Only for a message of at least
/// <see cref="ReplicationOptions.MoveMinimumBytes"/>: a smaller one costs less to upload.
/// </summary>
internal sealed class MoveReplayer(SyncContext context)
{
    /// <summary>
    /// Before new messages are streamed: a new message may be the far end of a move whose expunge we
    /// have not seen yet (its folder's event came second). Where a copy with the same Message-ID, size
    /// and date lives in another folder, ask the primary whether that one is gone; if so, mark it
    /// vanished now, so the copier can MOVE it. Leaves the primary with <paramref name="folder"/> selected.
    /// </summary>
    public async Task DiscoverSourcesAsync(FolderRecord folder, IReadOnlyList<MessageSummary> newMessages, CancellationToken cancellationToken)
    {
        if (!context.Replica.Features.UidPlus || newMessages.Count == 0) return;
        var lookAlikes = newMessages
            .Where(m => m.MessageId is not null && WorthMoving(m))
            .SelectMany(m => context.Store.Messages.LookAlikes(context.ReplicaId, folder.Id, m.MessageId!, m.Size, m.InternalDate))
            .DistinctBy(r => (r.FolderId, r.PrimaryUid))
            .GroupBy(r => r.FolderId)
            .ToList();
        if (lookAlikes.Count == 0) return;
        foreach (var group in lookAlikes)
        {
            var source = context.Store.Folders.Get(group.Key);
            if (source is null) continue;
            try
            {
                await context.Primary.SelectAsync(source.PrimaryName, readOnly: true, null, cancellationToken).ConfigureAwait(false);
            }
            catch (ImapCommandException)
            {
                // The source folder is gone from the primary (its deletion may be held back on the replica):
                // that is its own folder's business, never this one's. The message is uploaded instead.
                continue;
            }
            var asked = UidSet.FromUids(group.Select(r => r.PrimaryUid));
            var present = (await context.Primary.SearchAsync(SearchQuery.Uids(asked), cancellationToken).ConfigureAwait(false)).Expand().ToHashSet();
            var gone = group.Where(r => !present.Contains(r.PrimaryUid)).Select(r => r.PrimaryUid).ToList();
            if (gone.Count > 0) context.Store.Messages.MarkVanished(source.Id, gone);
        }
        await context.Primary.SelectAsync(folder.PrimaryName, readOnly: true, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The replica folder that moves left selected, with its UIDVALIDITY then. A user who moves 40 messages
    /// at once makes 40 moves from one folder: they share one SELECT of it, and the destination is selected
    /// again once, by <see cref="ReturnAsync"/>, not after each (87 SELECTs for 41 moves before).
    /// </summary>
    private (string Name, uint UidValidity)? _leftIn;

    private async Task<uint> SelectSourceAsync(FolderRecord sourceFolder, CancellationToken cancellationToken)
    {
        if (_leftIn is { } left && left.Name == sourceFolder.ReplicaName && context.Replica.SelectedFolder == left.Name) return left.UidValidity;
        _leftIn = null;
        var selected = await context.Replica.SelectAsync(sourceFolder.ReplicaName, readOnly: false, null, cancellationToken).ConfigureAwait(false);
        _leftIn = (sourceFolder.ReplicaName, selected.UidValidity);
        return selected.UidValidity;
    }

    /// <returns>Null when the source folder is gone from the replica (the tree sync beside this one deleted it): upload instead.</returns>
    private async Task<uint?> TrySelectSourceAsync(FolderRecord sourceFolder, CancellationToken cancellationToken)
    {
        try
        {
            return await SelectSourceAsync(sourceFolder, cancellationToken).ConfigureAwait(false);
        }
        catch (ImapCommandException ex) when (ex.Condition == ResponseCondition.No)
        {
            // A refused SELECT leaves nothing selected: the destination must be selected again before the upload.
            _leftIn = (sourceFolder.ReplicaName, 0);
            return null;
        }
    }

    /// <summary>
    /// Selects <paramref name="destination"/> on the replica again if moves left another folder selected:
    /// everything but a move (appends and their checks, flags, the folder's last steps) works there.
    /// </summary>
    public async Task ReturnAsync(FolderRecord destination, CancellationToken cancellationToken)
    {
        if (_leftIn is null) return;
        _leftIn = null;
        await context.Replica.SelectAsync(destination.ReplicaName, readOnly: false, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>After a failure: whatever the replica has selected now, no later move may count on it.</summary>
    public void ForgetSelection() => _leftIn = null;

    private HashSet<string> _pool = [];

    /// <summary>Reads the move pool before a copy, so that most messages, matching nothing, cost no query.</summary>
    public void LoadPool() => _pool = context.Store.Messages.VanishedMd5s(context.ReplicaId).Select(Convert.ToHexString).ToHashSet(StringComparer.Ordinal);

    /// <summary>Whether any new message of this copy could be replayed as a move (see <see cref="CanMoveAsync"/>).</summary>
    public bool MayMove => context.Replica.Features.UidPlus && !context.Policy.Delays && (_pool.Count > 0 || context.Policy.Keeps);

    /// <summary>
    /// Whether a copy the primary expunged elsewhere holds these bytes and date, and moving it beats uploading it. Never on a
    /// delayed replica: there the moved message shows at once in its new folder, and its old copy stays until the delay passes.
    /// On an archive a kept copy counts too (a message moved back, or restored); kept copies grow without bound, so they are
    /// looked up by their indexed MD5 for each new message rather than read into the pool.
    /// </summary>
    public Task<bool> CanMoveAsync(MessageSummary message, byte[] md5) =>
        Task.FromResult(context.Replica.Features.UidPlus && !context.Policy.Delays && WorthMoving(message) && (_pool.Contains(Convert.ToHexString(md5)) || context.Policy.Keeps) && Candidate(message, md5) is not null);

    private bool WorthMoving(MessageSummary message) => WorthMoving(message.Size);

    /// <summary>
    /// Whether a message of this size is moved rather than uploaded again: a smaller one costs the replica less to upload.
    /// On an archive every one is moved, or its old copy would be kept beside the new one.
    /// </summary>
    public bool WorthMoving(long size) => context.Policy.Keeps || size >= context.Options.MoveMinimumBytes;

    public async Task<bool> MoveAsync(FolderRecord destination, uint destinationUidValidity, MessageSummary message, byte[] md5, CancellationToken cancellationToken)
    {
        if (Candidate(message, md5) is not { } candidate) return false;
        var (source, fromKept) = candidate;
        var sourceFolder = context.Store.Folders.Get(source.FolderId);
        if (sourceFolder is null) return false;
        // Back in the folder it left (moved out and in again before the archive saw it elsewhere, or restored): its copy there is taken back.
        if (sourceFolder.Id == destination.Id)
            return context.Policy.Keeps && destinationUidValidity == sourceFolder.ReplicaUidValidity
                && await ReadoptAsync(destination, message, md5, source, fromKept, cancellationToken).ConfigureAwait(false);

        var store = context.Store;
        var replica = context.Replica;
        var useMove = replica.Features.Move;
        var journal = store.Journal.Begin(new JournalEntry
        {
            ReplicaId = context.ReplicaId,
            Folder = destination.PrimaryName,
            Operation = useMove ? JournalRepository.Move : JournalRepository.Copy,
            PrimaryUid = message.Uid,
            Md5 = md5,
            Size = message.Size,
            MessageId = message.MessageId,
            Detail = $"from {sourceFolder.PrimaryName} replica uid {source.ReplicaUid}",
        });
        CopyResult? copied = null;
        // A stored replica UID only names the same message under the UIDVALIDITY it was learned in.
        if (await TrySelectSourceAsync(sourceFolder, cancellationToken).ConfigureAwait(false) == sourceFolder.ReplicaUidValidity)
        {
            try
            {
                copied = useMove
                    ? await replica.MoveAsync(UidSet.Single(source.ReplicaUid), destination.ReplicaName, cancellationToken).ConfigureAwait(false)
                    : await replica.CopyAsync(UidSet.Single(source.ReplicaUid), destination.ReplicaName, cancellationToken).ConfigureAwait(false);
            }
            catch (ImapCommandException ex) when (ex.Condition == ResponseCondition.No)
            {
                // The source copy or its folder went meanwhile (another client, or a folder deleted under it):
                // upload instead. Should the server have copied it after all, the next full read adopts it by MD5.
                copied = null;
            }
        }
        if (copied is null || copied.DestinationUids.Count != 1)
        {
            // Nothing was copied (the source copy was already gone): upload instead.
            store.Journal.Abandon([journal]);
            return false;
        }
        if (copied.UidValidity != destinationUidValidity)
        {
            // Copied into a folder that changed under us: the journal entry stays open, so the next
            // pass over this folder compares every copy and adopts or removes this one.
            return false;
        }
        var newUid = copied.DestinationUids.Expand().Single();
        // An archive keeps what the primary expunged, but a moved message was not expunged: without MOVE, the source of
        // the COPY goes now (its folder is still selected), as MOVE's would, or the archive would hold it twice.
        var sourceGone = useMove || context.Policy.Keeps;
        if (!useMove && context.Policy.Keeps) await replica.ExpungeAsync(UidSet.Single(source.ReplicaUid), cancellationToken).ConfigureAwait(false);
        // The moved copy kept its old flags; give it the primary's now.
        var flags = MessageFlags.Parse(source.Flags);
        if (!flags.Equals(message.Flags))
        {
            await ReturnAsync(destination, cancellationToken).ConfigureAwait(false);
            await replica.SetFlagsAsync(UidSet.Single(newUid), message.Flags, cancellationToken).ConfigureAwait(false);
            flags = message.Flags;
        }
        store.InTransaction(() =>
        {
            store.Messages.Put([new MessageRecord
            {
                FolderId = destination.Id,
                PrimaryUid = message.Uid,
                ReplicaUid = newUid,
                Md5 = md5,
                Size = message.Size,
                InternalDate = message.InternalDate,
                Flags = flags.ToString(),
                MessageId = message.MessageId,
            }]);
            if (fromKept) store.Kept.Forget(source.FolderId, [source.ReplicaUid]);
            else if (sourceGone) store.Messages.Remove(source.FolderId, [source.PrimaryUid]);
            store.Journal.Complete([journal]);
        });
        Log.Moved(context.Logger, destination.PrimaryName, sourceFolder.PrimaryName, source.ReplicaUid, message.Uid, newUid);
        return true;
    }

    /// <summary>
    /// A message back in the folder an archive holds it in (restored, or moved out and back): the copy there, kept or waiting
    /// out the move window, is the primary's message again, with the primary's flags, rather than a second copy beside it.
    /// </summary>
    private async Task<bool> ReadoptAsync(FolderRecord folder, MessageSummary message, byte[] md5, MessageRecord kept, bool fromKept, CancellationToken cancellationToken)
    {
        var store = context.Store;
        var journal = store.Journal.Begin(new JournalEntry
        {
            ReplicaId = context.ReplicaId,
            Folder = folder.PrimaryName,
            Operation = "readopt",
            PrimaryUid = message.Uid,
            Md5 = md5,
            Size = message.Size,
            MessageId = message.MessageId,
            Detail = $"kept replica uid {kept.ReplicaUid}",
        });
        await ReturnAsync(folder, cancellationToken).ConfigureAwait(false);
        if (!MessageFlags.Parse(kept.Flags).Equals(message.Flags))
            await context.Replica.SetFlagsAsync(UidSet.Single(kept.ReplicaUid), message.Flags, cancellationToken).ConfigureAwait(false);
        store.InTransaction(() =>
        {
            if (fromKept) store.Kept.Forget(folder.Id, [kept.ReplicaUid]);
            else store.Messages.Remove(folder.Id, [kept.PrimaryUid]);
            store.Messages.Put([new MessageRecord
            {
                FolderId = folder.Id,
                PrimaryUid = message.Uid,
                ReplicaUid = kept.ReplicaUid,
                Md5 = md5,
                Size = message.Size,
                InternalDate = message.InternalDate,
                Flags = message.Flags.ToString(),
                MessageId = message.MessageId,
            }]);
            store.Journal.Complete([journal]);
        });
        Log.Adopted(context.Logger, folder.PrimaryName, message.Uid, kept.ReplicaUid, Md5.Hex(md5));
        return true;
    }

    /// <summary>The copy to move: one the primary expunged elsewhere, else (on an archive) a kept one; <c>Kept</c> says which.</summary>
    private (MessageRecord Row, bool Kept)? Candidate(MessageSummary message, byte[] md5) =>
        context.Store.Messages.VanishedByMd5(context.ReplicaId, md5).Select(r => (Row: r, Kept: false))
            .Concat(context.Policy.Keeps ? context.Store.Kept.ByMd5(context.ReplicaId, md5).Select(r => (Row: r, Kept: true)) : [])
            .Where(c => c.Row.Size == message.Size && c.Row.InternalDate?.ToUnixTimeSeconds() == message.InternalDate?.ToUnixTimeSeconds())
            .Select(c => ((MessageRecord, bool)?)c).FirstOrDefault();
}

using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>The replica stage's appends: each batch journaled first, then located, verified and recorded; refused messages tried again in forms the replica takes.</summary>
internal sealed partial class MessageCopier
{
    /// <summary>
    /// Appends a batch. A refusal that concerns the messages, not the folder, never holds the folder
    /// back: the batch is tried one message at a time, a message is tried again with the keywords the
    /// folder can hold, and a message still refused is reported and left for the next sync.
    /// </summary>
    private async Task AppendAsync(SyncContext lane, IReadOnlyList<PendingCopy> batch, CancellationToken cancellationToken)
    {
        // Without MULTIAPPEND a batch is several APPENDs, not one atomic command: a refusal halfway would
        // leave the earlier copies stored but unrecorded. One journaled message at a time keeps it exact.
        if (batch.Count > 1 && !lane.Replica.Features.MultiAppend)
        {
            foreach (var pending in batch) await AppendAsync(lane, [pending], cancellationToken).ConfigureAwait(false);
            return;
        }
        try
        {
            await AppendAsync(lane, batch, batch.Select(p => p.Summary.Flags).ToList(), cancellationToken).ConfigureAwait(false);
        }
        catch (ImapCommandException ex) when (TroubleTracker.ConcernsTheMessages(ex))
        {
            if (batch.Count > 1)
            {
                foreach (var pending in batch) await AppendAsync(lane, [pending], cancellationToken).ConfigureAwait(false);
                return;
            }
            await AppendRefusedAsync(lane, batch[0], ex, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task AppendRefusedAsync(SyncContext lane, PendingCopy pending, ImapCommandException refusal, CancellationToken cancellationToken)
    {
        var wanted = pending.Summary.Flags;
        foreach (var fewer in new[] { KeywordFit.Trim(wanted, _replica), KeywordFit.SystemOnly(wanted) }.OfType<MessageFlags>().Distinct())
        {
            try
            {
                await AppendAsync(lane, [pending], [fewer], cancellationToken).ConfigureAwait(false);
                lock (result) result.KeywordsDropped++;
                if (context.Notices.First($"keywords/{context.ReplicaId}/{folder.PrimaryName}"))
                    Log.KeywordsDropped(context.Logger, folder.PrimaryName, KeywordFit.Dropped(wanted, fewer), TroubleTracker.Describe(refusal));
                return;
            }
            catch (ImapCommandException ex) when (TroubleTracker.ConcernsTheMessages(ex))
            {
                refusal = ex;
            }
        }
        if (await AppendCanonicalAsync(lane, pending, refusal, cancellationToken).ConfigureAwait(false)) return;
        var reason = TroubleTracker.Describe(refusal);
        if (context.Notices.First($"refused/{context.ReplicaId}/{folder.PrimaryName}/{pending.Summary.Uid}/{reason}"))
            Log.MessageRefused(context.Logger, folder.PrimaryName, pending.Summary.Uid, reason);
        lock (result)
        {
            result.Refused++;
            result.RefusedReason ??= reason;
        }
    }

    /// <summary>
    /// A strict replica (Cyrus) refuses bare newlines and NUL bytes. Rather than leave the message out,
    /// it is copied with CRLF line endings and without NULs, and reported once per folder.
    /// </summary>
    private async Task<bool> AppendCanonicalAsync(SyncContext lane, PendingCopy pending, ImapCommandException refusal, CancellationToken cancellationToken)
    {
        if (pending.Data.Body!.Length > StoredForms.MaxBytes || pending.Data.Body.Length == 0) return false;
        var raw = pending.Data.Body.ToArray();
        var canonical = StoredForms.Canonical(raw, dropNul: true);
        if (canonical.AsSpan().SequenceEqual(raw)) return false;
        try
        {
            await AppendAsync(lane, [pending with { Sent = ImapLiteral.FromBytes(canonical) }], [pending.Summary.Flags], cancellationToken).ConfigureAwait(false);
        }
        catch (ImapCommandException ex) when (TroubleTracker.ConcernsTheMessages(ex))
        {
            return false;
        }
        lock (result) result.Altered++;
        if (context.Notices.First($"canonical/{context.ReplicaId}/{folder.PrimaryName}"))
            Log.StoredAltered(context.Logger, folder.PrimaryName, "with CRLF line endings and no NUL bytes", TroubleTracker.Describe(refusal));
        return true;
    }

    /// <param name="flags">What to set on each copy: the primary's flags, or fewer where the replica cannot hold them all.
    /// The record keeps the primary's, so a flag pass does not try again what the folder cannot take.</param>
    private async Task AppendAsync(SyncContext lane, IReadOnlyList<PendingCopy> batch, IReadOnlyList<MessageFlags> flags, CancellationToken cancellationToken)
    {
        var store = context.Store;
        var journal = store.Journal.Begin(batch.Select(p => new JournalEntry
        {
            ReplicaId = context.ReplicaId,
            Folder = folder.PrimaryName,
            Operation = JournalRepository.Append,
            PrimaryUid = p.Summary.Uid,
            Md5 = p.Md5,
            Size = p.Sent.Length,
            MessageId = p.Summary.MessageId,
        }));

        AppendResult appended;
        try
        {
            appended = await lane.Replica.AppendAsync(folder.ReplicaName,
                batch.Select((p, i) => new AppendMessage(p.Sent, flags[i], p.Summary.InternalDate)).ToList(), cancellationToken).ConfigureAwait(false);
        }
        catch (ImapCommandException)
        {
            // The server refused the APPEND: nothing was stored, so there is nothing to recover.
            store.Journal.Abandon(journal);
            throw;
        }

        var checks = new CopyChecks(lane, folder, result, _replicaUidNext);
        var usable = appended.Uids is { } set && appended.UidValidity == _replicaUidValidity && set.Count == batch.Count;
        if (!usable)
        {
            lock (_laneGate)
            {
                if (_lanes > 0)
                {
                    // The batch's journal entries stay open, so the next sync accounts for its copies.
                    context.Notices.First(OneLaneKey);
                    throw new ReplicationException("the replica gave no usable APPENDUID for a batch appended beside another connection; the folder's next sync copies on one connection");
                }
                _foundByContent = true;
            }
        }
        var uids = usable
            ? appended.Uids!.Expand().ToList()
            : await checks.LocateAsync(batch, cancellationToken).ConfigureAwait(false);

        await checks.VerifyAsync(batch, uids, journal, cancellationToken).ConfigureAwait(false);

        var rows = batch.Select((p, i) => new MessageRecord
        {
            FolderId = folder.Id,
            PrimaryUid = p.Summary.Uid,
            ReplicaUid = uids[i],
            Md5 = p.Md5,
            Size = p.Data.Body!.Length,
            InternalDate = p.Summary.InternalDate,
            Flags = p.Summary.Flags.ToString(),
            MessageId = p.Summary.MessageId,
        }).ToList();
        store.InTransaction(() =>
        {
            store.Messages.Put(rows);
            store.Journal.Complete(journal);
        });
        lock (result)
        {
            result.Appended += batch.Count;
            _left -= batch.Count;
        }
        ReplicationMetrics.Appended(context.Target, folder.PrimaryName, batch.Count, rows.Sum(r => r.Size));
        foreach (var row in rows)
            Log.Appended(context.Logger, folder.PrimaryName, row.PrimaryUid, row.ReplicaUid, row.Size, Md5.Hex(row.Md5));
    }
}

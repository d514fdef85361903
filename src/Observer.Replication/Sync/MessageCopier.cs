using System.Threading.Channels;
using Observer.Imap;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// Copies new primary messages to one replica folder in UID order. Two stages overlap: one streams
/// bodies from the primary, hashes them and forms batches; the other appends each batch to the
/// replica (journaled first), locates the copies (APPENDUID, or Message-ID and MD5), verifies them
/// and records them with their journal entries in one transaction. A move found on the way is
/// replayed in its place in the sequence, instead of an upload.
/// </summary>
internal sealed class MessageCopier(SyncContext context, FolderRecord folder, FolderSyncResult result, MoveReplayer moves)
{
    private const int QueuedBatches = 2;

    private uint _replicaUidValidity;
    private uint _replicaUidNext = 1;

    private sealed record Pending(MessageSummary Summary, MessageData Data, byte[] Md5);

    /// <summary>A step for the replica stage: a batch to append, or one message to replay as a move.</summary>
    private sealed record Step(IReadOnlyList<Pending> Batch, bool TryMove);

    /// <param name="messages">The new messages, as far as known (their Message-IDs). Null: learn everything from the bodies.</param>
    public async Task CopyAsync(UidSet uids, IReadOnlyDictionary<uint, MessageSummary>? messages, SelectedMailbox replica, CancellationToken cancellationToken)
    {
        if (uids.IsEmpty) return;
        _replicaUidValidity = replica.UidValidity;
        _replicaUidNext = replica.UidNext ?? 1;
        moves.LoadPool();
        var steps = Channel.CreateBounded<Step>(new BoundedChannelOptions(QueuedBatches) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var writer = Task.Run(() => WriteAsync(steps.Reader, stop), CancellationToken.None);
        Exception? readFailure = null;
        try
        {
            await ReadAsync(uids, messages, steps.Writer, stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // What was read in full is still written: a broken primary loses no progress already made.
            readFailure = ex;
        }
        steps.Writer.TryComplete();
        try
        {
            // A failure of the replica stage is the real cause even if it also stopped the primary stage.
            await writer.ConfigureAwait(false);
        }
        finally
        {
            while (steps.Reader.TryRead(out var left))
                foreach (var pending in left.Batch) pending.Data.Dispose();
        }
        if (readFailure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(readFailure);
    }

    /// <summary>The primary stage: stream, hash, batch.</summary>
    private async Task ReadAsync(UidSet uids, IReadOnlyDictionary<uint, MessageSummary>? messages, ChannelWriter<Step> steps, CancellationToken cancellationToken)
    {
        var batch = new List<Pending>();
        long batchBytes = 0;
        try
        {
            await foreach (var data in context.Primary.FetchMessagesAsync(uids, cancellationToken).ConfigureAwait(false))
            {
                if (data.Uid is not { } uid || data.Body is null || (messages is not null && !messages.ContainsKey(uid)))
                {
                    data.Dispose();
                    continue;
                }
                var summary = MessageSummary.From(data);
                if (messages is not null && messages[uid].MessageId is { } id) summary = summary with { MessageId = id };
                var md5 = await Md5.OfAsync(data.Body, cancellationToken).ConfigureAwait(false);
                var pending = new Pending(summary, data, md5);
                if (await moves.CanMoveAsync(summary, md5).ConfigureAwait(false))
                {
                    // Keep the replica in primary UID order: what is batched goes first.
                    if (batch.Count > 0) await steps.WriteAsync(new Step(batch, false), cancellationToken).ConfigureAwait(false);
                    batch = [];
                    batchBytes = 0;
                    await steps.WriteAsync(new Step([pending], true), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                batch.Add(pending);
                batchBytes += data.Body.Length;
                if (batch.Count >= context.Options.AppendBatchSize || batchBytes >= context.Options.AppendBatchBytes)
                {
                    await steps.WriteAsync(new Step(batch, false), cancellationToken).ConfigureAwait(false);
                    batch = [];
                    batchBytes = 0;
                }
            }
            if (batch.Count > 0) await steps.WriteAsync(new Step(batch, false), cancellationToken).ConfigureAwait(false);
            batch = [];
        }
        finally
        {
            foreach (var pending in batch) pending.Data.Dispose();
        }
    }

    /// <summary>The replica stage. A failure here stops the primary stage too.</summary>
    private async Task WriteAsync(ChannelReader<Step> steps, CancellationTokenSource stop)
    {
        try
        {
            await foreach (var step in steps.ReadAllAsync(stop.Token).ConfigureAwait(false))
            {
                try
                {
                    var first = step.Batch[0];
                    if (step.TryMove && await moves.MoveAsync(folder, _replicaUidValidity, first.Summary, first.Md5, stop.Token).ConfigureAwait(false))
                        result.Moved++;
                    else
                        await AppendAsync(step.Batch, stop.Token).ConfigureAwait(false);
                }
                finally
                {
                    foreach (var pending in step.Batch) pending.Data.Dispose();
                }
            }
        }
        catch
        {
            await stop.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task AppendAsync(IReadOnlyList<Pending> batch, CancellationToken cancellationToken)
    {
        var store = context.Store;
        var journal = store.Journal.Begin(batch.Select(p => new JournalEntry
        {
            ReplicaId = context.ReplicaId,
            Folder = folder.PrimaryName,
            Operation = "append",
            PrimaryUid = p.Summary.Uid,
            Md5 = p.Md5,
            Size = p.Data.Body!.Length,
            MessageId = p.Summary.MessageId,
        }));

        AppendResult appended;
        try
        {
            appended = await context.Replica.AppendAsync(folder.ReplicaName,
                batch.Select(p => new AppendMessage(p.Data.Body!, p.Summary.Flags, p.Summary.InternalDate)).ToList(), cancellationToken).ConfigureAwait(false);
        }
        catch (ImapCommandException)
        {
            // The server refused the APPEND: nothing was stored, so there is nothing to recover.
            store.Journal.Abandon(journal);
            throw;
        }

        var uids = appended.Uids is { } set && appended.UidValidity == _replicaUidValidity && set.Count == batch.Count
            ? set.Expand().ToList()
            : await LocateAsync(batch, cancellationToken).ConfigureAwait(false);

        await VerifyAsync(batch, uids, journal, cancellationToken).ConfigureAwait(false);

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
        result.Appended += batch.Count;
        foreach (var row in rows)
            Log.Appended(context.Logger, folder.PrimaryName, row.PrimaryUid, row.ReplicaUid, row.Size, Md5.Hex(row.Md5));
    }

    /// <summary>Without APPENDUID, finds each copy among the new replica UIDs by Message-ID, then confirms it by MD5.</summary>
    private async Task<List<uint>> LocateAsync(IReadOnlyList<Pending> batch, CancellationToken cancellationToken)
    {
        // New copies got UIDs at or above UIDNEXT as of this sync's SELECT, and none of them is tracked yet.
        var fresh = SearchQuery.Uids(UidSet.Range(_replicaUidNext, UidSet.Star));
        var taken = context.Store.Messages.ForFolder(folder.Id).Values.Select(r => r.ReplicaUid).ToHashSet();
        var uids = new List<uint>();
        foreach (var pending in batch)
        {
            var query = pending.Summary.MessageId is { } id ? fresh.And(SearchQuery.Header("Message-ID", id)) : fresh;
            var candidates = (await context.Replica.SearchAsync(query, cancellationToken).ConfigureAwait(false))
                .Expand().Where(u => u >= _replicaUidNext && !taken.Contains(u)).ToList();
            uint match = 0;
            if (candidates.Count > 0)
            {
                await foreach (var message in context.Replica.FetchMessagesAsync(UidSet.FromUids(candidates), cancellationToken).ConfigureAwait(false))
                {
                    using (message)
                    {
                        if (match == 0 && (await Md5.OfAsync(message.Body!, cancellationToken).ConfigureAwait(false)).AsSpan().SequenceEqual(pending.Md5))
                            match = message.Uid!.Value;
                    }
                }
            }
            if (match == 0)
                throw new ReplicationException($"the copy of primary uid {pending.Summary.Uid} cannot be found on the replica after APPEND");
            taken.Add(match);
            uids.Add(match);
        }
        return uids;
    }

    private async Task VerifyAsync(IReadOnlyList<Pending> batch, IReadOnlyList<uint> uids, IReadOnlyList<long> journal, CancellationToken cancellationToken)
    {
        var mode = context.Options.Verify;
        if (mode == VerifyMode.None) return;
        var expected = uids.Select((u, i) => (u, batch[i])).ToDictionary(x => x.u, x => x.Item2);
        var bad = new List<string>();
        if (mode == VerifyMode.Size)
        {
            using var sizes = await context.Replica.FetchSummariesAsync(UidSet.FromUids(uids), cancellationToken).ConfigureAwait(false);
            foreach (var m in sizes.Messages)
                if (m.Size != expected[m.Uid!.Value].Data.Body!.Length) bad.Add($"uid {m.Uid} has {m.Size} bytes, the primary {expected[m.Uid.Value].Data.Body!.Length}");
            if (sizes.Messages.Count != uids.Count) bad.Add($"{uids.Count - sizes.Messages.Count} copies missing");
        }
        else
        {
            var seen = 0;
            await foreach (var copy in context.Replica.FetchMessagesAsync(UidSet.FromUids(uids), cancellationToken).ConfigureAwait(false))
            {
                using (copy)
                {
                    seen++;
                    var md5 = await Md5.OfAsync(copy.Body!, cancellationToken).ConfigureAwait(false);
                    if (!md5.AsSpan().SequenceEqual(expected[copy.Uid!.Value].Md5))
                        bad.Add($"uid {copy.Uid} has md5 {Md5.Hex(md5)}, the primary {Md5.Hex(expected[copy.Uid.Value].Md5)}");
                }
            }
            if (seen != uids.Count) bad.Add($"{uids.Count - seen} copies missing");
        }
        if (bad.Count == 0) return;

        // Remove the bad copies so they are neither kept nor mistaken for good ones later.
        await context.Replica.ExpungeAsync(UidSet.FromUids(uids), cancellationToken).ConfigureAwait(false);
        context.Store.Journal.Abandon(journal);
        throw new VerificationException($"the replica changed appended messages ({string.Join("; ", bad.Take(3))})");
    }
}

using Microsoft.Extensions.Logging;
using System.Threading.Channels;
using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// Copies new primary messages to one replica folder. Two stages overlap: one streams bodies from the
/// primary, hashes them and forms batches; the other appends each batch to the replica (journaled
/// first), locates the copies (APPENDUID, or Message-ID and MD5), verifies them and records them with
/// their journal entries in one transaction. A move found on the way is replayed in its place in the
/// sequence, instead of an upload. The replica stage keeps primary UID order, except in a big copy
/// given more lanes (see <see cref="MoreLanesFrom"/>).
/// </summary>
internal sealed class MessageCopier(SyncContext context, FolderRecord folder, FolderSyncResult result, MoveReplayer moves)
{
    private const int QueuedBatches = 2;

    /// <summary>
    /// Chunks whose flags, dates and sizes are asked in one FETCH before their bodies: MailKit fetches
    /// bodies in a command of their own, and one such FETCH per chunk was 100 extra commands in 5,000 messages.
    /// </summary>
    private const int ChunksPerAttributeFetch = 10;

    /// <summary>
    /// A big copy is cut into about this many batches. Every command to a selected folder that just took
    /// messages without flags costs Dovecot on Maildir time in proportion to the folder's size (its own
    /// timing calls it lock wait: a verifying FETCH took 8 ms early in a 60,000-message copy and 88 ms
    /// at its end), so the number of commands, not their size, is what a big copy must keep down.
    /// 60,000 messages took 88 s in batches of 50 and 38 s in batches of 600; 100,000 took 238 s and
    /// 69 s. Batches of 2,000 were slower again (90 s).
    /// </summary>
    private const int TargetBatches = 100;

    /// <summary>The batch of a small copy, where more batches overlap the primary's reads with the replica's writes.</summary>
    private const int SmallestBatch = 50;

    /// <summary>
    /// A copy of at least this many messages also appends on more replica connections (<see cref="ReplicationOptions.AppendLanes"/>),
    /// where the budget has room. Dovecot writes and syncs each message of an APPEND to disk one after another: on this
    /// project's 2-core test box a bare client appended 40,000 messages in 20.7 s on one connection and 17.8 s on two,
    /// and Observer's copy of them went from about 28 s to 21 s (bench/results/2026-12-05-1020-append-lanes.md). Each lane
    /// verifies what it appended, so one lane's verification overlaps another's appends. The price is order: the lanes'
    /// batches get their replica UIDs in the order the server finishes them, so a big first copy can hold neighbouring
    /// batches swapped (bytes, flags and dates are the primary's all the same). Below this size a login costs more than it saves.
    /// </summary>
    private const int MoreLanesFrom = 2000;

    private int _batchSize;

    /// <summary>Of the messages this copy set out to append, those not appended yet: for progress.</summary>
    private int _left;

    private uint _replicaUidValidity;
    private uint _replicaUidNext = 1;
    private SelectedMailbox _replica = null!;


    /// <summary>A step for the replica stage: a batch to append, or one message to replay as a move.</summary>
    private sealed record Step(IReadOnlyList<PendingCopy> Batch, bool TryMove);

    /// <param name="messages">
    /// The new messages with their flags, dates and sizes, and their Message-IDs where known. Null: ask the
    /// primary for the attributes a window at a time, and learn the rest from the bodies.
    /// </param>
    public async Task CopyAsync(UidSet uids, IReadOnlyDictionary<uint, MessageSummary>? messages, SelectedMailbox replica, CancellationToken cancellationToken)
    {
        if (uids.IsEmpty) return;
        _replica = replica;
        _replicaUidValidity = replica.UidValidity;
        _replicaUidNext = replica.UidNext ?? 1;
        _batchSize = BatchSize(uids.Count, context.Options.AppendBatchSize);
        _left = (int)Math.Min(uids.Count, int.MaxValue);
        ReplicationMetrics.CopyStarted(context.Target, folder.PrimaryName, _left);
        try
        {
            await CopyStartedAsync(uids, messages, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Moves replayed, messages gone meanwhile or refused: none of them is waiting any more.
            ReplicationMetrics.CopyEnded(context.Target, folder.PrimaryName, _left);
        }
    }

    private async Task CopyStartedAsync(UidSet uids, IReadOnlyDictionary<uint, MessageSummary>? messages, CancellationToken cancellationToken)
    {
        moves.LoadPool();
        var steps = Channel.CreateBounded<Step>(new BoundedChannelOptions(QueuedBatches) { SingleReader = false, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var lanes = new List<Task> { Task.Run(() => WriteAsync(steps.Reader, context, stop), CancellationToken.None) };
        for (var more = MoreLanes(uids.Count); more > 0; more--) lanes.Add(Task.Run(() => WriteOnAnotherLaneAsync(steps.Reader, stop), CancellationToken.None));
        var writer = Task.WhenAll(lanes);
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

    /// <summary>
    /// The primary stage: stream, hash, batch. The UIDs are fetched a chunk at a time, and a chunk is
    /// read whole before its batches wait for room: a slow replica then pauses this stage between
    /// two FETCH commands, never in the middle of one, where the primary connection's deadline runs.
    /// Flags, dates and sizes not already known are asked first, for several chunks in one command.
    /// </summary>
    private async Task ReadAsync(UidSet uids, IReadOnlyDictionary<uint, MessageSummary>? messages, ChannelWriter<Step> steps, CancellationToken cancellationToken)
    {
        var all = uids.Expand().ToList();
        var window = _batchSize * ChunksPerAttributeFetch;
        var batch = new List<PendingCopy>();
        long batchBytes = 0;
        var ready = new List<Step>();
        try
        {
            for (var windowStart = 0; windowStart < all.Count; windowStart += window)
            {
                var uidsInWindow = all.GetRange(windowStart, Math.Min(window, all.Count - windowStart));
                var known = messages ?? await AttributesAsync(uidsInWindow, cancellationToken).ConfigureAwait(false);
                // A message gone since is not asked for; one that goes while its body is fetched comes empty.
                var present = uidsInWindow.Where(known.ContainsKey).ToList();
                // Listed as new, but without attributes now: expunged meanwhile, or its answer lost. Not passed over either way.
                if (messages is null) foreach (var uid in uidsInWindow.Where(u => !known.ContainsKey(u))) NotDelivered(uid);
                for (var start = 0; start < present.Count;)
                {
                    var set = NextChunk(present, ref start, known);
                    var unsent = set.Expand().ToHashSet();
                    await foreach (var data in context.Primary.FetchBodiesAsync(set, cancellationToken).ConfigureAwait(false))
                    {
                        if (data.Uid is not { } uid || data.Body is null || !known.TryGetValue(uid, out var attributes) || !unsent.Remove(uid))
                        {
                            data.Dispose();
                            continue;
                        }
                        (data.Flags, data.InternalDate, data.Size) = (attributes.Flags, attributes.InternalDate, attributes.Size);
                        if (data.Body.Length == 0)
                        {
                            // Expunged on the primary while its body was being fetched: gone, not empty (no server
                            // stores an empty message).
                            NotDelivered(uid);
                            data.Dispose();
                            continue;
                        }
                        (batch, batchBytes) = await AddAsync(data, uid, messages, batch, batchBytes, ready, cancellationToken).ConfigureAwait(false);
                    }
                    // Not sent at all: expunged meanwhile, or lost on the way. Either way the checkpoint must not pass it.
                    foreach (var uid in unsent.Order())
                    {
                        NotDelivered(uid);
                        result.NotSent++;
                    }
                    while (ready.Count > 0)
                    {
                        await steps.WriteAsync(ready[0], cancellationToken).ConfigureAwait(false);
                        ready.RemoveAt(0);
                    }
                }
            }
            if (batch.Count > 0) await steps.WriteAsync(new Step(batch, false), cancellationToken).ConfigureAwait(false);
            batch = [];
        }
        finally
        {
            foreach (var pending in batch.Concat(ready.SelectMany(r => r.Batch))) pending.Data.Dispose();
        }
    }

    /// <summary>
    /// A message the primary listed but did not deliver. The folder's next sync reads the whole folder
    /// (see <see cref="FolderSyncResult.NotDelivered"/>), and sees it expunged or copies it.
    /// </summary>
    private void NotDelivered(uint uid)
    {
        Log.NotDelivered(context.Logger, folder.PrimaryName, uid);
        result.NotDelivered++;
    }

    /// <summary>Messages per batch for a copy of <paramref name="count"/>: never more than the setting allows.</summary>
    private static int BatchSize(long count, int largest) =>
        (int)Math.Clamp(count / TargetBatches, Math.Min(SmallestBatch, largest), Math.Max(1, largest));

    /// <summary>
    /// The next UIDs to fetch in one command: a batch's worth, and no more bytes than a batch holds (by the
    /// sizes the primary gave), since a chunk is held whole in memory before it is handed on.
    /// </summary>
    private UidSet NextChunk(List<uint> present, ref int start, IReadOnlyDictionary<uint, MessageSummary> known)
    {
        var first = start;
        long bytes = 0;
        while (start < present.Count && start - first < _batchSize && (start == first || bytes + known[present[start]].Size <= context.Options.AppendBatchBytes))
            bytes += known[present[start++]].Size;
        return UidSet.FromUids(present.GetRange(first, start - first));
    }

    /// <summary>Flags, internal dates and sizes of <paramref name="window"/>, in one command; a UID expunged since is not there.</summary>
    private async Task<IReadOnlyDictionary<uint, MessageSummary>> AttributesAsync(List<uint> window, CancellationToken cancellationToken)
    {
        using var fetched = await context.Primary.FetchAttributesAsync(UidSet.FromUids(window), cancellationToken).ConfigureAwait(false);
        return fetched.Messages.Where(m => m.Uid is not null).Select(MessageSummary.From).ToDictionary(m => m.Uid);
    }

    /// <summary>Hashes one fetched message into the current batch; full batches and moves go to <paramref name="ready"/>.</summary>
    private async Task<(List<PendingCopy> Batch, long Bytes)> AddAsync(MessageData data, uint uid, IReadOnlyDictionary<uint, MessageSummary>? messages,
        List<PendingCopy> batch, long batchBytes, List<Step> ready, CancellationToken cancellationToken)
    {
        var summary = MessageSummary.From(data);
        if (messages is not null && messages[uid].MessageId is { } id) summary = summary with { MessageId = id };
        var md5 = await Md5.OfAsync(data.Body!, cancellationToken).ConfigureAwait(false);
        var pending = new PendingCopy(summary, data, md5);
        if (await moves.CanMoveAsync(summary, md5).ConfigureAwait(false))
        {
            // Keep the replica in primary UID order: what is batched goes first.
            if (batch.Count > 0) ready.Add(new Step(batch, false));
            ready.Add(new Step([pending], true));
            return ([], 0);
        }
        batch.Add(pending);
        batchBytes += data.Body!.Length;
        if (batch.Count >= _batchSize || batchBytes >= context.Options.AppendBatchBytes)
        {
            ready.Add(new Step(batch, false));
            return ([], 0);
        }
        return (batch, batchBytes);
    }

    /// <summary>
    /// Lanes beyond the first need a copy big enough, APPENDUID (so each lane knows its own copies without searching for
    /// them) and no move to replay: moves keep their place in the sequence, and an archive must never upload what it could move.
    /// </summary>
    private int MoreLanes(long count) =>
        count >= MoreLanesFrom && context.OpenSession is not null && context.Replica.Features.UidPlus && context.Replica.Features.MultiAppend && !moves.MayMove
            && !context.Notices.Given(OneLaneKey)
            ? Math.Max(0, context.Options.AppendLanes - 1)
            : 0;

    /// <summary>Set once this folder's replica answered an APPEND without a usable APPENDUID: its copies go on one lane from then on.</summary>
    private string OneLaneKey => $"one-lane/{context.ReplicaId}/{folder.PrimaryName}";

    /// <summary>
    /// Lanes beyond the first that are appending, and whether a batch of this copy was found by content (no usable
    /// APPENDUID), under one lock: a copy found by content could be another lane's identical one not yet recorded, so
    /// the two never meet. Whichever comes second gives way: a late lane does not start, a batch found by content
    /// while another lane appends fails the copy, and the folder's next sync appends on one lane.
    /// </summary>
    private readonly Lock _laneGate = new();
    private int _lanes;
    private bool _foundByContent;

    /// <summary>
    /// Appends on a connection of its own, beside the first lane, taking batches from the same queue. No room in the
    /// budget, or no connection, leaves the copy to the other lanes: another lane is only ever a speed-up.
    /// </summary>
    private async Task WriteOnAnotherLaneAsync(ChannelReader<Step> steps, CancellationTokenSource stop)
    {
        IMailSession? session = null;
        try
        {
            session = await context.OpenSession!(ServerRole.Replica, "append lane", TimeSpan.Zero, stop.Token).ConfigureAwait(false);
            if (session is null) return;
            var selected = await session.SelectAsync(folder.ReplicaName, readOnly: false, null, stop.Token).ConfigureAwait(false);
            // Recreated since the first lane selected it: that lane's checks will say so; this one stays out of it.
            if (selected.UidValidity != _replicaUidValidity)
            {
                await session.DisposeAsync().ConfigureAwait(false);
                return;
            }
        }
        catch (ImapException ex) when (!stop.IsCancellationRequested)
        {
            // Nothing was appended on it yet: the copy goes on without it.
            if (session is not null) await session.DisposeAsync().ConfigureAwait(false);
            context.Logger.LogDebug("{Folder}: no other replica connection for this copy ({Reason}); the first lane appends it", folder.PrimaryName, ex.Message);
            return;
        }
        await using (session.ConfigureAwait(false))
        {
            lock (_laneGate)
            {
                if (_foundByContent) return;
                _lanes++;
            }
            try
            {
                await WriteAsync(steps, context with { Replica = session }, stop).ConfigureAwait(false);
            }
            finally
            {
                lock (_laneGate) _lanes--;
            }
        }
    }

    /// <summary>The replica stage, on one lane. A failure here stops the primary stage and the other lane too.</summary>
    private async Task WriteAsync(ChannelReader<Step> steps, SyncContext lane, CancellationTokenSource stop)
    {
        try
        {
            await foreach (var step in steps.ReadAllAsync(stop.Token).ConfigureAwait(false))
            {
                try
                {
                    var first = step.Batch[0];
                    if (step.TryMove && await moves.MoveAsync(folder, _replicaUidValidity, first.Summary, first.Md5, stop.Token).ConfigureAwait(false))
                    {
                        result.Moved++;
                        continue;
                    }
                    await moves.ReturnAsync(folder, stop.Token).ConfigureAwait(false);
                    await AppendAsync(lane, step.Batch, stop.Token).ConfigureAwait(false);
                }
                finally
                {
                    foreach (var pending in step.Batch) pending.Data.Dispose();
                }
            }
            await moves.ReturnAsync(folder, stop.Token).ConfigureAwait(false);
        }
        catch
        {
            moves.ForgetSelection();
            await stop.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

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
            Operation = "append",
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

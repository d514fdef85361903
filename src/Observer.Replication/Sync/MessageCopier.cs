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
internal sealed partial class MessageCopier(SyncContext context, FolderRecord folder, FolderSyncResult result, MoveReplayer moves)
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
        var lanes = new List<Task> { Task.Run(() => WriteAsync(steps.Reader, context, stop, cancellationToken), CancellationToken.None) };
        for (var more = MoreLanes(uids.Count); more > 0; more--) lanes.Add(Task.Run(() => WriteOnAnotherLaneAsync(steps.Reader, stop, cancellationToken), CancellationToken.None));
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

    /// <summary>The replica stage, on one lane. A failure here stops the primary stage and the other lanes too.</summary>
    /// <param name="stop">Stops this lane taking steps, when another stage or lane failed.</param>
    /// <param name="cancellationToken">
    /// Stops the step in flight: only the pass's own end does. Another lane's failure lets the step finish, since an
    /// APPEND or MOVE abandoned on the way can still be carried out by the server after its connection is dropped,
    /// and so land on the replica after the next pass has read the folder.
    /// </param>
    /// <returns>The batches this lane appended.</returns>
    private async Task<int> WriteAsync(ChannelReader<Step> steps, SyncContext lane, CancellationTokenSource stop, CancellationToken cancellationToken)
    {
        var appended = 0;
        try
        {
            await foreach (var step in steps.ReadAllAsync(stop.Token).ConfigureAwait(false))
            {
                try
                {
                    var first = step.Batch[0];
                    if (step.TryMove && await moves.MoveAsync(folder, _replicaUidValidity, first.Summary, first.Md5, cancellationToken).ConfigureAwait(false))
                    {
                        result.Moved++;
                        continue;
                    }
                    await moves.ReturnAsync(folder, cancellationToken).ConfigureAwait(false);
                    await AppendAsync(lane, step.Batch, cancellationToken).ConfigureAwait(false);
                    appended++;
                }
                finally
                {
                    foreach (var pending in step.Batch) pending.Data.Dispose();
                }
            }
            await moves.ReturnAsync(folder, cancellationToken).ConfigureAwait(false);
            return appended;
        }
        catch
        {
            moves.ForgetSelection();
            await stop.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }
}

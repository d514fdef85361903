using Microsoft.Extensions.Logging;
using System.Threading.Channels;
using Observer.Mail;

namespace Observer.Replication;

/// <summary>The replica stage's extra lanes: more replica connections appending beside the first, for a big copy.</summary>
internal sealed partial class MessageCopier
{
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
    /// Lanes beyond the first that are appending (or failed), and whether a batch of this copy was found by content (no usable
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
    private async Task WriteOnAnotherLaneAsync(ChannelReader<Step> steps, CancellationTokenSource stop, CancellationToken cancellationToken)
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
            // A lane that failed may have left copies on the replica that nothing records: it stays counted, so
            // that no batch of this copy is found by content and taken for one of them.
            if (await WriteAsync(steps, context with { Replica = session }, stop, cancellationToken).ConfigureAwait(false) > 0)
                lock (result) result.MoreLanes++;
            lock (_laneGate) _lanes--;
        }
    }
}

using System.Runtime.CompilerServices;
using System.Threading.Channels;
using MailKit;
using MailKit.Net.Imap;
using Observer.Mail;
using FetchRequest = MailKit.FetchRequest;

namespace Observer.MailKit;

/// <summary>
/// Whole messages, fetched so that none is ever handed over with another's bytes in it. MailKit hands a
/// body over as soon as its literal is read, before the rest of its FETCH answer is parsed. If bytes went
/// missing in the stream, that literal swallowed the start of the next message's answer, and MailKit,
/// finding its feet at the one after, reports no error: only the missing message shows it.
/// </summary>
public sealed partial class MailKitMailSession
{
    /// <summary>
    /// Streams the bodies of <paramref name="expected"/> (ascending UIDs), each with its flags, date and size
    /// from <paramref name="summaries"/> when given. A UID that does not exist is simply not there.
    /// </summary>
    /// <param name="digestsOnly">Each body's MD5 and length only, its bytes kept nowhere (<see cref="SpoolingFolder.DigestsOnly"/>).</param>
    private async IAsyncEnumerable<MessageData> StreamBodiesAsync(List<uint> expected, IReadOnlyDictionary<uint, IMessageSummary>? summaries,
        bool digestsOnly, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (expected.Count == 0) yield break;
        var bodies = Channel.CreateBounded<MessageData>(4);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reading = RunAsync("FETCH", async ct =>
        {
            try
            {
                await FetchBodiesInOrderAsync(Selected(), expected, summaries, digestsOnly, bodies.Writer, ct).ConfigureAwait(false);
                return true;
            }
            finally
            {
                bodies.Writer.TryComplete();
            }
        }, stop.Token);
        try
        {
            await foreach (var message in bodies.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                yield return message;
            await reading.ConfigureAwait(false);
        }
        finally
        {
            if (!reading.IsCompleted)
            {
                // Left early: the rest of the answer is abandoned, and with it (MailKit's rule) the connection.
                await stop.CancelAsync().ConfigureAwait(false);
                try
                {
                    await reading.ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is ImapException or OperationCanceledException)
                {
                    // Already broken off on purpose.
                }
            }
            // Fetched but never taken: their spool files are closed here, not left to the garbage collector.
            while (bodies.Reader.TryRead(out var unread)) unread.Dispose();
        }
    }

    /// <summary>
    /// Each body waits for the next: the one expected next proves it whole. Anything else (a gap, a message
    /// out of order or twice) makes the waiting one a suspect: it is fetched again alone, where nothing
    /// can follow it, and the rest again after it, so that every message comes, in UID order. A message of
    /// which nothing came (first in line, or the answer had no body at all) is looked for, and fetched alone.
    /// </summary>
    private async Task FetchBodiesInOrderAsync(ImapFolder folder, List<uint> expected, IReadOnlyDictionary<uint, IMessageSummary>? summaries,
        bool digestsOnly, ChannelWriter<MessageData> bodies, CancellationToken cancellationToken)
    {
        var pending = expected;
        var tap = _connection.Tap;
        var spooling = (SpoolingFolder)folder;
        tap.StrictLiteralTails = true;
        spooling.DigestsOnly = digestsOnly;
        try
        {
            await FetchPendingAsync(folder, summaries, pending, bodies, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            tap.StrictLiteralTails = false;
            spooling.DigestsOnly = false;
        }
    }

    private async Task FetchPendingAsync(ImapFolder folder, IReadOnlyDictionary<uint, IMessageSummary>? summaries, List<uint> pending,
        ChannelWriter<MessageData> bodies, CancellationToken cancellationToken)
    {
        var tap = _connection.Tap;
        var allExist = summaries is not null;
        while (pending.Count > 0)
        {
            var gap = await HandOverProvenAsync(folder, summaries, pending, bodies, cancellationToken).ConfigureAwait(false);
            if (gap is not { } found) return;
            var at = found.At;
            if (!allExist || found.NothingCame)
            {
                // Asked for without summaries, a gap may be a UID that does not exist rather than a message lost
                // in the stream: which exist is learnt once, and the fetch goes on from the suspect among them.
                // Nothing at all for a message is asked about the same way: expunged meanwhile, or lost.
                var from = pending[at];
                var existing = await folder.FetchAsync(pending[at..].Select(u => new UniqueId(u)).ToList(), new FetchRequest(MessageSummaryItems.UniqueId), cancellationToken).ConfigureAwait(false);
                var exist = existing.Select(s => s.UniqueId.Id).ToHashSet();
                pending = pending.Where(u => u >= from && exist.Contains(u)).ToList();
                allExist = true;
                // A suspect is fetched again with the rest; a message that did not come is fetched alone, so
                // that a server which never sends it cannot hold the fetch in a loop.
                if (!found.NothingCame || pending.Count == 0) continue;
                at = 0;
            }
            // Alone, a body is followed by the command's end, which a swallowing literal could not leave intact.
            MessageData? alone = null;
            try
            {
                var violations = tap.FramingViolations;
                await folder.GetStreamsAsync([new UniqueId(pending[at])], async (_, _, uid, stream, token) =>
                {
                    if (alone is null && uid.Id == pending[at])
                        alone = await ReadBodyAsync(uid.Id, summaries?[uid.Id], stream, token).ConfigureAwait(false);
                }, cancellationToken).ConfigureAwait(false);
                if (tap.FramingViolations != violations)
                    throw new Observer.Mail.ImapProtocolException($"the {Role}'s answer to FETCH lost or added bytes in a message, twice over; the connection was closed");
                if (alone is { } whole)
                {
                    alone = null;
                    await HandOverAsync(whole, bodies, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                alone?.Dispose();
            }
            pending = pending[(at + 1)..];
        }
    }

    /// <summary>
    /// Where a FETCH of <paramref name="pending"/> stopped handing over: at a body that may have swallowed
    /// what followed it (a suspect), or at a message of which nothing came.
    /// </summary>
    private readonly record struct Gap(int At, bool NothingCame);

    /// <summary>One FETCH of <paramref name="pending"/>; hands over what it proves, and returns where the first gap is, if any.</summary>
    private async Task<Gap?> HandOverProvenAsync(ImapFolder folder, IReadOnlyDictionary<uint, IMessageSummary>? summaries, List<uint> pending,
        ChannelWriter<MessageData> bodies, CancellationToken cancellationToken)
    {
        (MessageData Data, int Index)? held = null;
        Gap? gap = null;
        var any = false;
        var tap = _connection.Tap;
        var violations = tap.FramingViolations;
        try
        {
            await folder.GetStreamsAsync(pending.Select(u => new UniqueId(u)).ToList(), async (_, _, uid, stream, token) =>
            {
                var index = pending.BinarySearch(uid.Id);
                // After a gap, the rest is fetched again; a UID not asked for is not this fetch's.
                if (gap is not null || index < 0) return;
                // Bytes lost before the first body can take whole answers with them, as they can between two.
                // A first UID that simply does not exist costs this chunk once more: rare, as callers ask for
                // what was just listed.
                if (held is null && index != 0)
                {
                    gap = new Gap(0, NothingCame: true);
                    return;
                }
                // By the time the next body arrives, the tap has read past the previous one's end.
                if (held is { } previous && (index != previous.Index + 1 || tap.FramingViolations != violations))
                {
                    gap = new Gap(previous.Index, NothingCame: false);
                    held = null;
                    previous.Data.Dispose();
                    return;
                }
                any = true;
                var data = await ReadBodyAsync(uid.Id, summaries?[uid.Id], stream, token).ConfigureAwait(false);
                var proven = held;
                held = (data, index);
                if (proven is { } whole) await HandOverAsync(whole.Data, bodies, token).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
            if (gap is null && held is { } last)
            {
                held = null;
                // The last one asked for is proven by the command's end; one before a missing tail is not.
                if (last.Index == pending.Count - 1 && tap.FramingViolations == violations) await HandOverAsync(last.Data, bodies, cancellationToken).ConfigureAwait(false);
                else
                {
                    gap = new Gap(last.Index, NothingCame: false);
                    last.Data.Dispose();
                }
            }
            // No body at all: the messages are gone, or their answers were.
            if (gap is null && !any) gap = new Gap(0, NothingCame: true);
            return gap;
        }
        finally
        {
            held?.Data.Dispose();
        }
    }

    private async Task HandOverAsync(MessageData data, ChannelWriter<MessageData> bodies, CancellationToken cancellationToken)
    {
        try
        {
            // Waiting here for the consumer is Observer's delay, not the server's.
            using (_pauses.Pause())
                await bodies.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Not handed over: its spool file is closed here, not left to the garbage collector.
            data.Dispose();
            throw;
        }
    }

    private static async Task<MessageData> ReadBodyAsync(uint uid, IMessageSummary? summary, Stream stream, CancellationToken cancellationToken) => new()
    {
        Uid = uid,
        Flags = summary is null ? null : Flags(summary),
        InternalDate = summary?.InternalDate,
        Size = summary?.Size,
        Body = await BodyAsync(stream, cancellationToken).ConfigureAwait(false),
    };
}

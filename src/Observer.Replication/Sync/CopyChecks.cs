using System.Security.Cryptography;
using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>A fetched primary message on its way to the replica.</summary>
/// <param name="Sent">The bytes to append: the primary's, or a form a strict replica accepts.</param>
internal sealed record PendingCopy(MessageSummary Summary, MessageData Data, byte[] Md5)
{
    public ImapLiteral Sent { get; init; } = Data.Body!;
}

/// <summary>
/// After an APPEND: finds the copies where the server gave no APPENDUID, and verifies each against
/// what was sent (MD5, or size), accepting only the forms the replica server is known to store.
/// </summary>
internal sealed class CopyChecks(SyncContext context, FolderRecord folder, FolderSyncResult result, uint replicaUidNext)
{
    /// <summary>Without APPENDUID, finds each copy among the new replica UIDs by Message-ID, then confirms it by MD5.</summary>
    public async Task<List<uint>> LocateAsync(IReadOnlyList<PendingCopy> batch, CancellationToken cancellationToken)
    {
        // New copies got UIDs at or above UIDNEXT as of this sync's SELECT, and none of them is tracked yet.
        var fresh = SearchQuery.Uids(UidSet.Range(replicaUidNext, UidSet.Star));
        var taken = context.Store.Messages.ForFolder(folder.Id).Values.Select(r => r.ReplicaUid).ToHashSet();
        var uids = new List<uint>();
        foreach (var pending in batch)
        {
            var query = pending.Summary.MessageId is { } id ? fresh.And(SearchQuery.Header("Message-ID", id)) : fresh;
            var candidates = (await context.Replica.SearchAsync(query, cancellationToken).ConfigureAwait(false))
                .Expand().Where(u => u >= replicaUidNext && !taken.Contains(u)).ToList();
            if (candidates.Count == 0)
            {
                // A server may announce new copies only after a later command (Courier): let it, and look again.
                await context.Replica.NoopAsync(cancellationToken).ConfigureAwait(false);
                candidates = (await context.Replica.SearchAsync(query, cancellationToken).ConfigureAwait(false))
                    .Expand().Where(u => u >= replicaUidNext && !taken.Contains(u)).ToList();
            }
            uint match = 0;
            if (candidates.Count > 0)
            {
                await foreach (var copy in context.Replica.FetchDigestsAsync(UidSet.FromUids(candidates), cancellationToken).ConfigureAwait(false))
                    if (match == 0 && copy.Md5.AsSpan().SequenceEqual(pending.Md5)) match = copy.Uid;
            }
            if (match == 0)
                throw new ReplicationException($"the copy of primary uid {pending.Summary.Uid} cannot be found on the replica after APPEND");
            taken.Add(match);
            uids.Add(match);
        }
        return uids;
    }

    /// <summary>
    /// Where a bad copy first differs from what was sent, so an admin (or a bug report) can tell a server's habit from
    /// damage. The check kept only the copy's digest, so its bytes are read again for this. Only words for the report:
    /// it never fails, so the bad copies are always removed.
    /// </summary>
    private async Task<string> FirstDifferenceAsync(ImapLiteral sent, MessageDigest copy, CancellationToken cancellationToken)
    {
        if (sent.Length > StoredForms.MaxBytes || copy.Length > StoredForms.MaxBytes) return "";
        byte[]? stored = null;
        try
        {
            await foreach (var message in context.Replica.FetchBodiesAsync(UidSet.FromUids([copy.Uid]), cancellationToken).ConfigureAwait(false))
            {
                using (message) stored ??= message.Body!.ToArray();
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return $" (its bytes could not be read again: {ex.Message})";
        }
        if (stored is null) return " (it could not be read again)";
        var (a, b) = (sent.ToArray(), stored);
        // The second read is not the first: a copy damaged only on its way back reads right this time.
        if (a.AsSpan().SequenceEqual(b)) return " (read again, it equals what was sent: its bytes changed on their way back)";
        var at = a.AsSpan().CommonPrefixLength(b);
        static string Around(byte[] bytes, int at) => Convert.ToHexString(bytes.AsSpan(at, Math.Min(8, bytes.Length - at))).ToLowerInvariant();
        return $" ({a.Length} bytes sent, {b.Length} stored; first difference at byte {at}: sent {Around(a, at)}, stored {Around(b, at)})";
    }

    /// <summary>A copy that differs from what was sent only as the replica server stores every message (see <see cref="StoredForms"/>).</summary>
    private bool IsStoredForm(PendingCopy sent, byte[] copyMd5)
    {
        if (sent.Sent.Length > StoredForms.MaxBytes) return false;
        var raw = sent.Sent.ToArray();
        if (MD5.HashData(raw).AsSpan().SequenceEqual(copyMd5)) return true;
        if (StoredForms.Which(raw, copyMd5) is not { } form) return false;
        // The copier's lanes verify at the same time.
        lock (result) result.Altered++;
        if (context.Notices.First($"altered/{context.ReplicaId}/{folder.PrimaryName}"))
            Log.StoredAltered(context.Logger, folder.PrimaryName, $"with its {form} changed by the replica server", "it stores messages that way");
        return true;
    }

    public async Task VerifyAsync(IReadOnlyList<PendingCopy> batch, IReadOnlyList<uint> uids, IReadOnlyList<long> journal, CancellationToken cancellationToken)
    {
        var mode = context.Options.Verify;
        if (mode == VerifyMode.None) return;
        var expected = uids.Select((u, i) => (u, batch[i])).ToDictionary(x => x.u, x => x.Item2);
        var bad = new List<string>();
        var wrong = new List<MessageDigest>();
        var seen = new HashSet<uint>();
        // Courier stores the copies and answers APPENDUID, but announces them to the selected session only
        // after a later command: a FETCH right away finds nothing. One NOOP lets it catch up.
        for (var attempt = 0; attempt < 2 && seen.Count < uids.Count; attempt++)
        {
            if (attempt > 0) await context.Replica.NoopAsync(cancellationToken).ConfigureAwait(false);
            var missing = UidSet.FromUids(uids.Where(u => !seen.Contains(u)));
            if (mode == VerifyMode.Size)
            {
                using var sizes = await context.Replica.FetchSummariesAsync(missing, cancellationToken).ConfigureAwait(false);
                foreach (var m in sizes.Messages.Where(m => m.Uid is { } u && expected.ContainsKey(u) && seen.Add(u)))
                    if (m.Size != expected[m.Uid!.Value].Sent.Length) bad.Add($"uid {m.Uid} has {m.Size} bytes, the primary {expected[m.Uid.Value].Sent.Length}");
                continue;
            }
            await foreach (var copy in context.Replica.FetchDigestsAsync(missing, cancellationToken).ConfigureAwait(false))
            {
                if (!expected.ContainsKey(copy.Uid) || !seen.Add(copy.Uid)) continue;
                if (!copy.Md5.AsSpan().SequenceEqual(expected[copy.Uid].Md5) && !IsStoredForm(expected[copy.Uid], copy.Md5)) wrong.Add(copy);
            }
        }
        foreach (var copy in wrong.Take(3))
        {
            var sent = expected[copy.Uid];
            bad.Add($"uid {copy.Uid} has md5 {Md5.Hex(copy.Md5)}, the primary {Md5.Hex(sent.Md5)}{await FirstDifferenceAsync(sent.Sent, copy, cancellationToken).ConfigureAwait(false)}");
        }
        if (seen.Count != uids.Count) bad.Add($"{uids.Count - seen.Count} copies missing");
        if (bad.Count == 0) return;

        // Remove the bad copies so they are neither kept nor mistaken for good ones later.
        await context.Replica.ExpungeAsync(UidSet.FromUids(uids), cancellationToken).ConfigureAwait(false);
        context.Store.Journal.Abandon(journal);
        throw new VerificationException($"the replica changed appended messages ({string.Join("; ", bad.Take(3))})");
    }
}

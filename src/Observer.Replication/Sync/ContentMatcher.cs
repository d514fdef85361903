using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// Pairs new primary messages with replica messages we do not track yet ("extras") that hold the
/// same bytes, so they are adopted instead of uploaded again. Only pairs with equal size and
/// Message-ID can be equal, so only those have their MD5 computed; then MD5 and internal date decide.
/// </summary>
internal sealed class ContentMatcher(IMailSession primary, IMailSession replica)
{
    public sealed record Adoption(MessageSummary Primary, MessageSummary Replica, byte[] Md5);

    public sealed record Plan(IReadOnlyList<Adoption> Adoptions, IReadOnlyList<MessageSummary> ToCopy, IReadOnlyList<MessageSummary> UnmatchedExtras);

    /// <param name="knownPrimary">Rows dropped by a replica remap, by primary UID: their MD5 is known without a download.</param>
    /// <param name="knownReplica">Rows dropped by a primary remap (or open journal entries), by replica UID.</param>
    public async Task<Plan> MatchAsync(
        IReadOnlyList<MessageSummary> newMessages,
        IReadOnlyList<MessageSummary> extras,
        IReadOnlyDictionary<uint, byte[]> knownPrimary,
        IReadOnlyDictionary<uint, byte[]> knownReplica,
        CancellationToken cancellationToken)
    {
        if (newMessages.Count == 0 || extras.Count == 0) return new Plan([], newMessages, extras);

        var extraKeys = extras.Select(e => e.CandidateKey).ToHashSet();
        var primaryCandidates = newMessages.Where(m => extraKeys.Contains(m.CandidateKey)).ToList();
        var primaryKeys = primaryCandidates.Select(m => m.CandidateKey).ToHashSet();
        var replicaCandidates = extras.Where(e => primaryKeys.Contains(e.CandidateKey)).ToList();
        if (primaryCandidates.Count == 0) return new Plan([], newMessages, extras);

        var replicaMd5 = await HashesAsync(replica, replicaCandidates, knownReplica, cancellationToken).ConfigureAwait(false);
        var primaryMd5 = await HashesAsync(primary, primaryCandidates, knownPrimary, cancellationToken).ConfigureAwait(false);

        // Multiset matching: two identical messages on the primary need two copies on the replica.
        var pool = replicaCandidates
            .GroupBy(e => Key(replicaMd5[e.Uid], e.InternalDate))
            .ToDictionary(g => g.Key, g => new Queue<MessageSummary>(g.OrderBy(e => e.Uid)));
        var adoptions = new List<Adoption>();
        var adopted = new HashSet<uint>();
        foreach (var message in primaryCandidates)
        {
            var md5 = primaryMd5[message.Uid];
            if (!pool.TryGetValue(Key(md5, message.InternalDate), out var queue) || queue.Count == 0) continue;
            var extra = queue.Dequeue();
            adoptions.Add(new Adoption(message, extra, md5));
            adopted.Add(message.Uid);
        }
        var used = adoptions.Select(a => a.Replica.Uid).ToHashSet();
        return new Plan(adoptions, newMessages.Where(m => !adopted.Contains(m.Uid)).ToList(), extras.Where(e => !used.Contains(e.Uid)).ToList());
    }

    /// <summary>An internal date is part of an exact copy, so a copy with another date is not adopted.</summary>
    private static string Key(byte[] md5, DateTimeOffset? date) => Md5.Hex(md5) + "/" + date?.ToUnixTimeSeconds();

    private static async Task<Dictionary<uint, byte[]>> HashesAsync(IMailSession session, IReadOnlyList<MessageSummary> messages,
        IReadOnlyDictionary<uint, byte[]> known, CancellationToken cancellationToken)
    {
        var hashes = new Dictionary<uint, byte[]>();
        var unknown = new List<uint>();
        foreach (var m in messages)
        {
            if (known.TryGetValue(m.Uid, out var md5)) hashes[m.Uid] = md5;
            else unknown.Add(m.Uid);
        }
        if (unknown.Count == 0) return hashes;
        await foreach (var message in session.FetchDigestsAsync(UidSet.FromUids(unknown), cancellationToken).ConfigureAwait(false))
            hashes[message.Uid] = message.Md5;
        foreach (var uid in unknown.Where(u => !hashes.ContainsKey(u)))
            throw new ReplicationException($"{session.Role} message uid {uid} disappeared while being compared");
        return hashes;
    }
}

using System.Security.Cryptography;
using System.Text;
using Observer.Mail;

namespace Observer.TestSupport;

/// <summary>One message as the comparison sees it.</summary>
/// <param name="StoredMd5s">The MD5s of the forms in which the other side's server may store it (see <see cref="StoredForms"/>).</param>
public sealed record SeenMessage(uint Uid, string Md5, MessageFlags Flags, DateTimeOffset? InternalDate, long Size, IReadOnlyList<string>? StoredMd5s = null);

/// <summary>
/// Reads every folder of an account, message by message: MD5 of the raw bytes, flags without
/// \Recent, and internal date. Folders are keyed by their path of names below the personal namespace,
/// so servers with different hierarchy delimiters and prefixes ("INBOX." on Cyrus and Courier)
/// compare equal.
/// </summary>
public sealed class AccountSnapshot
{
    public Dictionary<string, List<SeenMessage>> Folders { get; } = new(StringComparer.Ordinal);
    public HashSet<string> Subscribed { get; } = new(StringComparer.Ordinal);

    public int MessageCount => Folders.Values.Sum(f => f.Count);

    /// <summary>Replica copies that matched only in a form their server stores (counted by <see cref="Differences"/>).</summary>
    public int StoredAltered { get; private set; }

    /// <param name="replicaKind">For a primary: the kind of the replica, whose stored forms of each message are then computed.</param>
    /// <summary>A folder that is not there (any more), in the words of Dovecot, Cyrus and Courier.</summary>
    public static bool IsGone(ImapCommandException ex) =>
        ex.Code?.Kind == ResponseCodeKind.NonExistent || ex.Message.Contains("doesn't exist", StringComparison.Ordinal)
        || ex.Message.Contains("does not exist", StringComparison.Ordinal) || ex.Message.Contains("deleted under us", StringComparison.Ordinal);

    public static async Task<AccountSnapshot> ReadAsync(UserImapClient client, ServerKind? replicaKind = null)
    {
        var snapshot = new AccountSnapshot();
        var prefix = client.PersonalPrefix;
        foreach (var mailbox in await client.ListAsync())
        {
            if (!mailbox.IsSelectable) continue;
            var key = Key(mailbox.Name, mailbox.Delimiter, prefix);
            if (mailbox.IsSubscribed) snapshot.Subscribed.Add(key);
            var messages = new List<SeenMessage>();
            SelectedMailbox selected;
            try
            {
                selected = await client.ExamineAsync(mailbox.Name);
            }
            catch (ImapCommandException ex) when (IsGone(ex))
            {
                // Dovecot's Maildir++ layout lists a deleted parent of a kept child without \Noselect (with
                // \HasChildren, or, once subscribed, without): it holds nothing. A folder deleted between LIST
                // and EXAMINE ("deleted under us") is gone too; the comparison is taken again until it settles.
                continue;
            }
            if (selected.Exists > 0)
            {
                await foreach (var m in client.UidFetchStreamAsync(UidSet.All, new FetchRequest(FetchItems.Flags | FetchItems.InternalDate | FetchItems.Body)))
                {
                    using (m)
                    {
                        await using var body = m.Body!.OpenRead();
                        var md5 = Convert.ToHexString(await MD5.HashDataAsync(body));
                        IReadOnlyList<string>? stored = null;
                        if (replicaKind is { } kind && m.Body.ToArray() is var raw && StoredForms.IsOdd(raw)) stored = StoredForms.Md5s(kind, raw);
                        messages.Add(new SeenMessage(m.Uid!.Value, md5, (m.Flags ?? MessageFlags.None).WithoutRecent(), m.InternalDate, m.Body.Length, stored));
                    }
                }
            }
            snapshot.Folders[key] = messages;
        }
        await client.UnselectAsync();
        return snapshot;
    }

    /// <summary>"INBOX" stays "INBOX"; "Work.Projects" with '.' and "Work/Projects" with '/' both become "Work/Projects".</summary>
    public static string Key(string name, char? delimiter) => Key(name, delimiter, "");

    /// <summary>As <see cref="Key(string, char?)"/>, below the personal namespace prefix: "INBOX.Work" under "INBOX." is "Work".</summary>
    public static string Key(string name, char? delimiter, string personalPrefix)
    {
        if (name.Equals("INBOX", StringComparison.OrdinalIgnoreCase)) return "INBOX";
        if (personalPrefix.Length > 0 && name.StartsWith(personalPrefix, StringComparison.OrdinalIgnoreCase)) name = name[personalPrefix.Length..];
        return delimiter is { } d && d != '/' ? name.Replace(d, '/') : name;
    }

    /// <summary>Every difference between this (the primary) and <paramref name="replica"/>, one line each; empty when identical.</summary>
    public List<string> Differences(AccountSnapshot replica, bool compareSubscriptions = true)
    {
        var problems = new List<string>();
        replica.StoredAltered = 0;
        foreach (var (folder, mine) in Folders)
        {
            if (!replica.Folders.TryGetValue(folder, out var theirs))
            {
                problems.Add($"{folder}: missing on the replica");
                continue;
            }
            var lacking = Except(mine, theirs).ToList();
            var extras = Except(theirs, mine).ToList();
            // What is left may be copies the replica's server stored in a form of its own.
            foreach (var m in lacking.ToList())
            {
                var stored = extras.FirstOrDefault(r => m.StoredMd5s?.Contains(r.Md5) == true && Describe(r with { Md5 = m.Md5 }) == Describe(m));
                if (stored is null) continue;
                lacking.Remove(m);
                extras.Remove(stored);
                replica.StoredAltered++;
            }
            foreach (var missing in lacking) problems.Add($"{folder}: replica lacks {Describe(missing)}");
            foreach (var extra in extras) problems.Add($"{folder}: replica has extra {Describe(extra)}");
        }
        foreach (var folder in replica.Folders.Keys.Where(f => !Folders.ContainsKey(f) && !IsParentOf(f)))
            problems.Add($"{folder}: only on the replica");
        if (compareSubscriptions)
        {
            foreach (var s in Subscribed.Except(replica.Subscribed)) problems.Add($"{s}: subscribed on the primary only");
            foreach (var s in replica.Subscribed.Except(Subscribed)) problems.Add($"{s}: subscribed on the replica only");
        }
        return problems;
    }

    /// <summary>Messages present more than once on this side where the other side has fewer copies: duplicates.</summary>
    public int DuplicatesAgainst(AccountSnapshot primary) => DuplicatesOf(primary).Sum(d => d.Extra);

    /// <summary>
    /// Each message (same MD5 and internal date) that a folder of this side (the replica) holds more
    /// than once, and more times than the same folder of <paramref name="primary"/> holds it.
    /// </summary>
    public List<Duplicate> DuplicatesOf(AccountSnapshot primary)
    {
        var found = new List<Duplicate>();
        foreach (var (folder, messages) in Folders)
        {
            var theirs = primary.Folders.GetValueOrDefault(folder) ?? [];
            foreach (var group in messages.GroupBy(Identity).Where(g => g.Count() > 1))
            {
                var expected = Math.Max(1, theirs.Count(t => Identity(t) == group.Key));
                if (group.Count() > expected) found.Add(new Duplicate(folder, group.Key, group.Count(), expected));
            }
        }
        return found;
    }

    private static string Identity(SeenMessage m) => $"md5 {m.Md5} date {m.InternalDate?.ToUnixTimeSeconds()}";

    private bool IsParentOf(string folder) => Folders.Keys.Any(k => k.StartsWith(folder + "/", StringComparison.Ordinal));

    // Keywords are case-insensitive (RFC 3501), and a server may keep the case it first saw.
    private static string Describe(SeenMessage m) => $"md5 {m.Md5} flags ({m.Flags.ToString().ToUpperInvariant()}) date {m.InternalDate?.ToUnixTimeSeconds()}";

    /// <summary>The messages of <paramref name="a"/> that <paramref name="b"/> lacks, as a multiset by MD5, flags and date.</summary>
    private static IEnumerable<SeenMessage> Except(List<SeenMessage> a, List<SeenMessage> b)
    {
        var counts = b.GroupBy(Describe).ToDictionary(g => g.Key, g => g.Count());
        foreach (var x in a.OrderBy(Describe, StringComparer.Ordinal))
        {
            var key = Describe(x);
            if (counts.TryGetValue(key, out var n) && n > 0) counts[key] = n - 1;
            else yield return x;
        }
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var (folder, messages) in Folders.OrderBy(f => f.Key)) sb.AppendLine($"{folder}: {messages.Count}");
        return sb.ToString();
    }
}

/// <summary>A message a replica folder holds <see cref="Copies"/> times where the primary's holds it <see cref="Expected"/> times (at least 1).</summary>
public sealed record Duplicate(string Folder, string Message, int Copies, int Expected)
{
    public int Extra => Copies - Expected;

    public override string ToString() => $"{Folder}: {Message} {Copies} times on the replica, {Expected} on the primary";
}

using System.Security.Cryptography;
using System.Text;
using Observer.Imap;

namespace Observer.TestSupport;

/// <summary>One message as the comparison sees it.</summary>
public sealed record SeenMessage(uint Uid, string Md5, MessageFlags Flags, DateTimeOffset? InternalDate, long Size);

/// <summary>
/// Reads every folder of an account, message by message: MD5 of the raw bytes, flags without
/// \Recent, and internal date. Folders are keyed by their path of names, so servers with different
/// hierarchy delimiters compare equal.
/// </summary>
public sealed class AccountSnapshot
{
    public Dictionary<string, List<SeenMessage>> Folders { get; } = new(StringComparer.Ordinal);
    public HashSet<string> Subscribed { get; } = new(StringComparer.Ordinal);

    public int MessageCount => Folders.Values.Sum(f => f.Count);

    public static async Task<AccountSnapshot> ReadAsync(ImapClient client)
    {
        var snapshot = new AccountSnapshot();
        foreach (var mailbox in await client.ListAsync())
        {
            if (!mailbox.IsSelectable) continue;
            var key = Key(mailbox.Name, mailbox.Delimiter);
            if (mailbox.IsSubscribed) snapshot.Subscribed.Add(key);
            var messages = new List<SeenMessage>();
            SelectedMailbox selected;
            try
            {
                selected = await client.ExamineAsync(mailbox.Name);
            }
            catch (ImapCommandException ex) when (mailbox.HasAttribute("\\HasChildren")
                && (ex.Code?.Kind == ResponseCodeKind.NonExistent || ex.Message.Contains("doesn't exist", StringComparison.Ordinal)))
            {
                // Dovecot's Maildir++ layout lists a deleted parent of a kept child without \Noselect: it holds nothing.
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
                        messages.Add(new SeenMessage(m.Uid!.Value, md5, (m.Flags ?? MessageFlags.None).WithoutRecent(), m.InternalDate, m.Body.Length));
                    }
                }
            }
            snapshot.Folders[key] = messages;
        }
        await client.UnselectAsync();
        return snapshot;
    }

    /// <summary>"INBOX" stays "INBOX"; "Work.Projects" with '.' and "Work/Projects" with '/' both become "Work/Projects".</summary>
    public static string Key(string name, char? delimiter) =>
        name.Equals("INBOX", StringComparison.OrdinalIgnoreCase) ? "INBOX" : delimiter is { } d && d != '/' ? name.Replace(d, '/') : name;

    /// <summary>Every difference between this (the primary) and <paramref name="replica"/>, one line each; empty when identical.</summary>
    public List<string> Differences(AccountSnapshot replica, bool compareSubscriptions = true)
    {
        var problems = new List<string>();
        foreach (var (folder, mine) in Folders)
        {
            if (!replica.Folders.TryGetValue(folder, out var theirs))
            {
                problems.Add($"{folder}: missing on the replica");
                continue;
            }
            var expected = mine.Select(Describe).Order(StringComparer.Ordinal).ToList();
            var actual = theirs.Select(Describe).Order(StringComparer.Ordinal).ToList();
            foreach (var missing in Except(expected, actual)) problems.Add($"{folder}: replica lacks {missing}");
            foreach (var extra in Except(actual, expected)) problems.Add($"{folder}: replica has extra {extra}");
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
    public int DuplicatesAgainst(AccountSnapshot primary)
    {
        var duplicates = 0;
        foreach (var (folder, messages) in Folders)
        {
            var theirs = primary.Folders.GetValueOrDefault(folder) ?? [];
            foreach (var group in messages.GroupBy(m => m.Md5))
                duplicates += Math.Max(0, group.Count() - Math.Max(1, theirs.Count(t => t.Md5 == group.Key)));
        }
        return duplicates;
    }

    private bool IsParentOf(string folder) => Folders.Keys.Any(k => k.StartsWith(folder + "/", StringComparison.Ordinal));

    private static string Describe(SeenMessage m) => $"md5 {m.Md5} flags ({m.Flags}) date {m.InternalDate?.ToUnixTimeSeconds()}";

    private static IEnumerable<string> Except(List<string> a, List<string> b)
    {
        var counts = b.GroupBy(x => x).ToDictionary(g => g.Key, g => g.Count());
        foreach (var x in a)
        {
            if (counts.TryGetValue(x, out var n) && n > 0) counts[x] = n - 1;
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

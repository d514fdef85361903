using System.Security.Cryptography;
using Observer.Mail;
using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>One message as the comparison sees it.</summary>
internal sealed record MessageFacts(string Key, string Md5, string Flags, string Keywords, long? Date);

/// <summary>How a replica differs from its primary, counted by kind; "exact" when nothing does.</summary>
internal sealed record Exactness(int Messages, int Missing, int Extra, int BytesDiffer, int FlagsDiffer, int KeywordsLost, int DatesDiffer, int FoldersMissing)
{
    public bool Exact => Missing + Extra + BytesDiffer + FlagsDiffer + KeywordsLost + DatesDiffer + FoldersMissing == 0;

    /// <summary>Every message is there, however faithfully: enough to start timing a tool that alters what it copies.</summary>
    public bool Present => Missing + Extra + FoldersMissing == 0;

    public override string ToString()
    {
        if (Exact) return "exact";
        var parts = new List<string>();
        if (FoldersMissing > 0) parts.Add($"{FoldersMissing} folders missing");
        if (Missing > 0) parts.Add($"{Missing} missing");
        if (Extra > 0) parts.Add($"{Extra} extra");
        if (BytesDiffer > 0) parts.Add($"{BytesDiffer} altered");
        if (KeywordsLost > 0) parts.Add($"{KeywordsLost} wrong keywords");
        if (FlagsDiffer > 0) parts.Add($"{FlagsDiffer} wrong flags");
        if (DatesDiffer > 0) parts.Add($"{DatesDiffer} wrong dates");
        return "WRONG: " + string.Join(", ", parts);
    }
}

/// <summary>
/// Compares the two accounts message by message: MD5 of the raw bytes, system flags, keywords and
/// internal date, matched by Message-ID within each folder. A light variant skips the bodies, to
/// watch for convergence cheaply.
/// </summary>
internal static class ReplicaCheck
{
    public static async Task<Exactness> CompareAsync(PairAccounts accounts, bool bodies = true)
    {
        var primary = ReadAsync(accounts.PrimaryClientAsync, bodies);
        var replica = ReadAsync(accounts.ReplicaClientAsync, bodies);
        return Compare(await primary, await replica);
    }

    /// <summary>Polls the light comparison until it finds no difference; returns seconds waited, or null on timeout.</summary>
    /// <param name="presentOnly">Wait only until every message is there: the copy phases already judge exactness.</param>
    public static async Task<double?> WaitConvergedAsync(PairAccounts accounts, TimeSpan timeout, Func<bool>? stillRunning = null, bool presentOnly = false)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            var check = await CompareAsync(accounts, bodies: false);
            if (presentOnly ? check.Present : check.Exact) return clock.Elapsed.TotalSeconds;
            if (stillRunning is not null && !stillRunning()) return null;
            await Task.Delay(200);
        }
        return null;
    }

    private static Exactness Compare(Dictionary<string, List<MessageFacts>> primary, Dictionary<string, List<MessageFacts>> replica)
    {
        int missing = 0, extra = 0, bytes = 0, flags = 0, keywords = 0, dates = 0, foldersMissing = 0;
        foreach (var (folder, mine) in primary)
        {
            if (!replica.TryGetValue(folder, out var theirs))
            {
                foldersMissing++;
                missing += mine.Count;
                continue;
            }
            var byKey = theirs.GroupBy(m => m.Key).ToDictionary(g => g.Key, g => g.ToList());
            foreach (var group in mine.GroupBy(m => m.Key))
            {
                var copies = byKey.GetValueOrDefault(group.Key) ?? [];
                byKey.Remove(group.Key);
                var originals = group.ToList();
                missing += Math.Max(0, originals.Count - copies.Count);
                extra += Math.Max(0, copies.Count - originals.Count);
                foreach (var (original, copy) in originals.Zip(copies))
                {
                    if (original.Md5 != copy.Md5) bytes++;
                    if (original.Flags != copy.Flags) flags++;
                    if (original.Keywords != copy.Keywords) keywords++;
                    if (original.Date != copy.Date) dates++;
                }
            }
            extra += byKey.Values.Sum(l => l.Count);
        }
        // Folders only on the replica count by their messages; an empty parent made real is harmless.
        extra += replica.Where(r => !primary.ContainsKey(r.Key)).Sum(r => r.Value.Count);
        return new Exactness(primary.Values.Sum(f => f.Count), missing, extra, bytes, flags, keywords, dates, foldersMissing);
    }

    private static async Task<Dictionary<string, List<MessageFacts>>> ReadAsync(Func<Task<UserImapClient>> connect, bool bodies)
    {
        await using var client = await connect();
        var folders = new Dictionary<string, List<MessageFacts>>(StringComparer.Ordinal);
        var items = FetchItems.Flags | FetchItems.InternalDate | (bodies ? FetchItems.Body : FetchItems.Size);
        foreach (var mailbox in await client.ListAsync())
        {
            if (!mailbox.IsSelectable) continue;
            var messages = new List<MessageFacts>();
            var selected = await client.ExamineAsync(mailbox.Name);
            if (selected.Exists > 0)
            {
                await foreach (var m in client.UidFetchStreamAsync(UidSet.All, new FetchRequest(items) { HeaderFields = ["Message-ID"] }))
                {
                    using (m)
                    {
                        var md5 = "";
                        if (m.Body is not null)
                        {
                            await using var body = m.Body.OpenRead();
                            md5 = Convert.ToHexString(await MD5.HashDataAsync(body));
                        }
                        var all = (m.Flags ?? MessageFlags.None).WithoutRecent();
                        var system = string.Join(" ", all.All.Where(f => f.StartsWith('\\')).Order(StringComparer.OrdinalIgnoreCase)).ToUpperInvariant();
                        var words = string.Join(" ", all.All.Where(f => !f.StartsWith('\\')).Order(StringComparer.OrdinalIgnoreCase)).ToUpperInvariant();
                        var id = m.HeaderFields is { Length: > 0 } h ? System.Text.Encoding.UTF8.GetString(h).Trim() : "";
                        // Without a Message-ID, the bytes are the identity (sizes when bodies are skipped).
                        var key = id.Length > 0 ? id.ToUpperInvariant() : md5.Length > 0 ? md5 : $"size {m.Size}";
                        messages.Add(new MessageFacts(key, md5, system, words, m.InternalDate?.ToUnixTimeSeconds()));
                    }
                }
            }
            folders[AccountSnapshot.Key(mailbox.Name, mailbox.Delimiter)] = messages;
        }
        return folders;
    }
}

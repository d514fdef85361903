using System.Text;
using Observer.Mail;

namespace Observer.Bench;

/// <summary>A profile of a generated mailbox: how many messages, how big, in how many folders.</summary>
internal sealed record CorpusProfile(string Name, int Messages, int Folders, int MinBytes, int MaxBytes, bool Attachments)
{
    public static CorpusProfile Parse(string name) => name.ToLowerInvariant() switch
    {
        "demo" => new("demo", 200, 6, 1_000, 6_000, false),
        "small" => new("small", 5_000, 10, 2_000, 10_000, false),
        "mixed" => new("mixed", 200, 4, 100_000, 5_000_000, true),
        "large" => new("large", 100_000, 1, 2_000, 6_000, false),
        _ => throw new BenchException($"unknown profile '{name}'; use demo, small, mixed or large"),
    };
}

/// <summary>
/// Deterministic mail from a seed: realistic headers, unique Message-IDs, random flags and keywords,
/// distinct internal dates, nested and non-ASCII folder names. The same seed gives the same bytes.
/// </summary>
internal sealed class CorpusGenerator(CorpusProfile profile, int seed)
{
    private static readonly string[] FolderNames =
        ["INBOX", "Archive.2025", "Archive.2026", "Projekte.\u00dcbersicht", "Clients.Acme Corp", "Lists.dev", "Caf\u00e9 \u2615", "Receipts", "Travel.\u65c5\u884c", "Sent", "Drafts", "Notes"];

    private static readonly string[] Words = ("the quarterly report is attached please review before friday meeting notes budget server migration "
        + "replication backup invoice travel schedule lunch project deadline update status weekly summary design proposal contract").Split(' ');

    private static readonly string[] Keywords = ["$Label1", "$Label2", "$Work", "$Personal", "$Important", "Junk", "NonJunk", "$Forwarded"];

    public IReadOnlyList<string> Folders => FolderNames.Take(Math.Max(1, profile.Folders)).ToList();

    public IEnumerable<(string Folder, AppendMessage Message)> Messages()
    {
        var random = new Random(seed);
        var folders = Folders;
        var start = new DateTimeOffset(2024, 1, 1, 8, 0, 0, TimeSpan.FromHours(1));
        for (var i = 0; i < profile.Messages; i++)
        {
            var folder = folders[i % folders.Count];
            var size = random.Next(profile.MinBytes, profile.MaxBytes + 1);
            var bytes = Build(random, i, size);
            var date = start.AddMinutes(i * 7 + random.Next(0, 5));
            yield return (folder, new AppendMessage(ImapLiteral.FromBytes(bytes), Flags(random), date));
        }
    }

    private MessageFlags Flags(Random random)
    {
        var flags = new List<string>();
        if (random.NextDouble() < 0.6) flags.Add("\\Seen");
        if (random.NextDouble() < 0.1) flags.Add("\\Flagged");
        if (random.NextDouble() < 0.15) flags.Add("\\Answered");
        if (random.NextDouble() < 0.2) flags.Add(Keywords[random.Next(Keywords.Length)]);
        return new MessageFlags(flags);
    }

    private byte[] Build(Random random, int index, int size)
    {
        var from = $"user{random.Next(1, 500)}@example.{(random.Next(2) == 0 ? "com" : "org")}";
        var subject = string.Join(' ', Enumerable.Range(0, random.Next(3, 9)).Select(_ => Words[random.Next(Words.Length)]));
        var header = new StringBuilder()
            .Append("Return-Path: <").Append(from).Append(">\r\n")
            .Append("Received: from mx").Append(random.Next(1, 9)).Append(".example.net (mx.example.net [192.0.2.").Append(random.Next(1, 250)).Append("])\r\n\tby mail.example.com with ESMTPS; Mon, 1 Jan 2024 08:00:00 +0100\r\n")
            .Append("From: ").Append(from).Append("\r\nTo: team@example.com\r\n")
            .Append("Subject: ").Append(subject).Append("\r\n")
            .Append("Date: Mon, 1 Jan 2024 08:00:00 +0100\r\n")
            .Append("Message-ID: <").Append(seed).Append('.').Append(index).Append('.').Append(random.Next()).Append("@bench.example.com>\r\n")
            .Append("MIME-Version: 1.0\r\n");
        var body = new StringBuilder();
        if (profile.Attachments)
        {
            const string boundary = "=_observer_bench_boundary";
            header.Append("Content-Type: multipart/mixed; boundary=\"").Append(boundary).Append("\"\r\n\r\n");
            body.Append("--").Append(boundary).Append("\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee attached.\r\n--").Append(boundary)
                .Append("\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"data")
                .Append(index).Append(".bin\"\r\n\r\n");
            var raw = new byte[Math.Max(0, (size - header.Length - body.Length - 100) * 3 / 4)];
            random.NextBytes(raw);
            var b64 = Convert.ToBase64String(raw);
            for (var i = 0; i < b64.Length; i += 76) body.Append(b64, i, Math.Min(76, b64.Length - i)).Append("\r\n");
            body.Append("--").Append(boundary).Append("--\r\n");
        }
        else
        {
            header.Append("Content-Type: text/plain; charset=utf-8\r\n\r\n");
            while (header.Length + body.Length < size)
            {
                var line = string.Join(' ', Enumerable.Range(0, random.Next(6, 14)).Select(_ => Words[random.Next(Words.Length)]));
                body.Append(line).Append("\r\n");
            }
        }
        return Encoding.UTF8.GetBytes(header.Append(body).ToString());
    }
}

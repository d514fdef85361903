using System.Globalization;
using Observer.Mail;

namespace Observer.TestSupport;

/// <summary>The starting point of the convergence scenario: the primary's first folders and mail, and observer's settings.</summary>
public static class ScenarioSetup
{
    /// <summary>The folders the user starts with ('/' between levels); never renamed or deleted. Churn is kept apart.</summary>
    public static IReadOnlyList<string> BaseFolders { get; } = ["INBOX", "Archive", "Archive/2025", "Projects", "Projects/Alpha", "Caf\u00e9"];

    public const string Churn = "Churn";

    /// <summary>Creates the base folders and Churn on the primary and fills them with mail of every shape.</summary>
    public static async Task SeedPrimaryAsync(UserImapClient client, FolderNaming naming, Random random, int messages)
    {
        foreach (var folder in BaseFolders.Skip(1).Append(Churn)) await client.CreateAsync(naming.ServerName(folder));
        var share = new (string Folder, double Share)[] { ("INBOX", 0.3), ("Archive", 0.15), ("Archive/2025", 0.25), ("Projects/Alpha", 0.2), ("Caf\u00e9", 0.1) };
        var n = 0;
        foreach (var (folder, part) in share)
        {
            for (var i = 0; i < (int)(messages * part); i++)
            {
                var flags = random.Next(2) == 0 ? new MessageFlags([random.Next(3) == 0 ? "$Work" : MessageFlags.Seen]) : null;
                var (message, _) = MessageShapes.Next(random, $"s{++n}x{random.Next(100_000)}", flags);
                try
                {
                    await client.AppendAsync(naming.ServerName(folder), message);
                }
                catch (ImapCommandException)
                {
                    // Some servers refuse some odd bytes (Cyrus: bare newlines, NUL): the primary then simply lacks that message.
                }
            }
        }
        for (var i = 0; i < 20; i++) await client.AppendAsync(naming.ServerName(Churn), MailFactory.Message($"churn seed {i}"));
    }

    /// <summary>
    /// Observer's settings for the scenario: through the fault proxies, with quick timeouts and
    /// reconnects (as the soak has them), polling every 5 s and a full pass every minute. The delete
    /// guard keeps its defaults: ordinary churn must not trip it.
    /// </summary>
    public static Dictionary<string, string> Settings(PairAccounts accounts, string statePath, FaultProxy primaryProxy, FaultProxy replicaProxy)
    {
        var settings = accounts.Settings(statePath);
        settings["Primary:Port"] = primaryProxy.Port.ToString(CultureInfo.InvariantCulture);
        settings["Replica:Port"] = replicaProxy.Port.ToString(CultureInfo.InvariantCulture);
        foreach (var side in new[] { "Primary", "Replica" })
        {
            settings[$"{side}:ConnectTimeout"] = "00:00:05";
            settings[$"{side}:CommandTimeout"] = "00:00:10";
        }
        settings["Reconnect:InitialDelay"] = "00:00:00.250";
        settings["Reconnect:MaxDelay"] = "00:00:05";
        settings["Replication:PollInterval"] = "00:00:05";
        settings["Replication:ReconcileInterval"] = "00:01:00";
        settings["Replication:TroubleRetryDelay"] = "00:00:02";
        settings["Replication:TroubleMaxDelay"] = "00:00:15";
        return settings;
    }
}

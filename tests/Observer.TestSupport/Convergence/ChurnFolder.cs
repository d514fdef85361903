using Observer.Mail;

namespace Observer.TestSupport;

/// <summary>
/// A folder kept small by constant appends and expunges, as a POP client or a mail filter keeps
/// one: new mail arrives, and whatever makes it hold more than about <paramref name="target"/>
/// messages is taken away, oldest first.
/// </summary>
public sealed class ChurnFolder(UserImapClient client, Random random, string serverName, int target = 20)
{
    private int _arrived;

    public UserImapClient Client { get; set; } = client;

    public int Appended { get; private set; }

    public int Expunged { get; private set; }

    public async Task<string> StepAsync()
    {
        var count = random.Next(1, 3);
        for (var i = 0; i < count; i++)
            await Client.AppendAsync(serverName, MailFactory.Message($"churn {++_arrived}x{random.Next(100_000)}", random.Next(4) == 0 ? new MessageFlags([MessageFlags.Seen]) : null));
        Appended += count;
        var selected = await Client.SelectAsync(serverName);
        var excess = (int)selected.Exists - target + random.Next(0, 4);
        var taken = "";
        if (excess > 0)
        {
            var oldest = (await Client.UidSearchAsync(SearchQuery.All)).Expand().Order().Take(excess).ToList();
            await MessageMover.ExpungeAsync(Client, UidSet.FromUids(oldest));
            Expunged += oldest.Count;
            taken = $", expunged the oldest {oldest.Count} (uid {UidSet.FromUids(oldest)})";
        }
        return $"{count} arrived in {serverName} (held {selected.Exists}){taken}";
    }
}

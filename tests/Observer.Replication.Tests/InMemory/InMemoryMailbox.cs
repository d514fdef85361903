using Observer.Mail;

namespace Observer.Replication.Tests.InMemory;

/// <summary>One folder as an IMAP server keeps it: UIDs that only grow, a mod-sequence per change, and what was expunged when.</summary>
public sealed class InMemoryMailbox(string name, uint uidValidity)
{
    public string Name { get; set; } = name;
    public uint UidValidity { get; } = uidValidity;
    public uint UidNext { get; private set; } = 1;
    public ulong HighestModSeq { get; private set; } = 1;
    public bool Subscribed { get; set; }
    public List<InMemoryMessage> Messages { get; } = [];

    /// <summary>Expunged UIDs with the mod-sequence of their expunge, for VANISHED (RFC 7162).</summary>
    public List<(uint Uid, ulong ModSeq)> Expunged { get; } = [];

    public InMemoryMessage Add(byte[] bytes, MessageFlags flags, DateTimeOffset internalDate)
    {
        var message = new InMemoryMessage(UidNext++, bytes, flags.WithoutRecent(), internalDate, ++HighestModSeq);
        Messages.Add(message);
        return message;
    }

    public bool SetFlags(InMemoryMessage message, MessageFlags flags)
    {
        if (message.Flags.Equals(flags)) return false;
        message.Flags = flags;
        message.ModSeq = ++HighestModSeq;
        return true;
    }

    public IReadOnlyList<uint> Expunge(Func<InMemoryMessage, bool> which)
    {
        var gone = Messages.Where(which).ToList();
        foreach (var message in gone)
        {
            Messages.Remove(message);
            Expunged.Add((message.Uid, ++HighestModSeq));
        }
        return gone.Select(m => m.Uid).ToList();
    }

    public IEnumerable<InMemoryMessage> In(UidSet uids) => Messages.Where(m => uids.Contains(m.Uid));

    public MailboxStatus Status(bool modSeqs) => new()
    {
        Messages = (uint)Messages.Count,
        UidNext = UidNext,
        UidValidity = UidValidity,
        HighestModSeq = modSeqs ? HighestModSeq : null,
    };
}

namespace Observer.Mail;

/// <summary>What SELECT or EXAMINE reported about a mailbox.</summary>
public sealed record SelectedMailbox
{
    public required string Name { get; init; }
    public bool ReadOnly { get; init; }
    public uint Exists { get; init; }
    public uint UidValidity { get; init; }
    public uint? UidNext { get; init; }

    /// <summary>Null together with <see cref="NoModSeq"/> when the mailbox has no mod-sequences.</summary>
    public ulong? HighestModSeq { get; init; }
    public bool NoModSeq { get; init; }
    public MessageFlags Flags { get; init; } = MessageFlags.None;
    public MessageFlags PermanentFlags { get; init; } = MessageFlags.None;
    public bool AllowsNewKeywords { get; init; }

    /// <summary>QRESYNC: UIDs expunged since the client's mod-sequence.</summary>
    public UidSet Vanished { get; init; } = UidSet.Empty;

    /// <summary>QRESYNC: flags of messages changed since the client's mod-sequence.</summary>
    public IReadOnlyList<MessageData> Changed { get; init; } = [];
}

namespace Observer.Mail;

/// <summary>The items of a STATUS response; an item the server did not send is null.</summary>
public sealed record MailboxStatus
{
    public uint? Messages { get; init; }
    public uint? Recent { get; init; }
    public uint? UidNext { get; init; }
    public uint? UidValidity { get; init; }
    public uint? Unseen { get; init; }
    public ulong? HighestModSeq { get; init; }
    public ulong? Size { get; init; }
}

[Flags]
public enum StatusItems
{
    None = 0,
    Messages = 1,
    Recent = 2,
    UidNext = 4,
    UidValidity = 8,
    Unseen = 16,
    HighestModSeq = 32,
    Size = 64,

    /// <summary>What a replicator needs to decide whether a mailbox changed.</summary>
    Replication = Messages | UidNext | UidValidity | HighestModSeq,
}

namespace Observer.Mail;

[Flags]
public enum FetchItems
{
    None = 0,
    Uid = 1,
    Flags = 2,
    InternalDate = 4,
    Size = 8,
    ModSeq = 16,

    /// <summary>BODY.PEEK[]: the whole raw message, without setting \Seen.</summary>
    Body = 32,
}

/// <summary>What to UID FETCH. <see cref="ChangedSince"/> and <see cref="Vanished"/> are the RFC 7162 modifiers.</summary>
public sealed record FetchRequest(FetchItems Items)
{
    /// <summary>Header fields for BODY.PEEK[HEADER.FIELDS (...)], such as Message-ID.</summary>
    public IReadOnlyList<string>? HeaderFields { get; init; }

    public ulong? ChangedSince { get; init; }

    /// <summary>Ask for VANISHED (EARLIER) of expunged UIDs in the range (needs QRESYNC and ChangedSince).</summary>
    public bool Vanished { get; init; }
}

public enum StoreMode
{
    /// <summary>FLAGS: replace.</summary>
    Replace,

    /// <summary>+FLAGS</summary>
    Add,

    /// <summary>-FLAGS</summary>
    Remove,
}

/// <summary>One message for APPEND.</summary>
public sealed record AppendMessage(ImapLiteral Content, MessageFlags? Flags = null, DateTimeOffset? InternalDate = null);

/// <summary>What APPENDUID reported; null UIDs when the server has no UIDPLUS.</summary>
public sealed record AppendResult(uint? UidValidity, UidSet? Uids);

/// <summary>What COPYUID reported for UID COPY or UID MOVE.</summary>
public sealed record CopyResult(uint UidValidity, UidSet SourceUids, UidSet DestinationUids)
{
    /// <summary>Pairs each source UID with its copy's UID.</summary>
    public IEnumerable<(uint Source, uint Destination)> Pairs() => SourceUids.Expand().Zip(DestinationUids.Expand());
}

/// <summary>RFC 7162 QRESYNC parameters of SELECT: what the client already knows.</summary>
public sealed record QResyncParameters(uint UidValidity, ulong ModSeq, UidSet? KnownUids = null);

/// <summary>A LIST entry together with its STATUS when LIST-STATUS returned one.</summary>
public sealed record MailboxWithStatus(MailboxListEntry Mailbox, MailboxStatus? Status);

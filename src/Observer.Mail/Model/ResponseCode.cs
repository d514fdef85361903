namespace Observer.Mail;

/// <summary>The kinds of response code the library understands; anything else is <see cref="Other"/>.</summary>
public enum ResponseCodeKind
{
    Other,
    Alert,
    Capability,
    PermanentFlags,
    UidValidity,
    UidNext,
    Unseen,
    HighestModSeq,
    NoModSeq,
    ReadOnly,
    ReadWrite,
    TryCreate,
    Closed,
    OverQuota,
    AlreadyExists,
    NonExistent,
    AppendUid,
    CopyUid,
    Modified,
    UidNotSticky,
    Parse,
    Limit,
    ServerBug,
    Unavailable,
    AuthenticationFailed,
    Cannot,
    InUse,
    NoPerm,
}

/// <summary>A bracketed response code such as [UIDVALIDITY 3857529045]. Codes carrying data have their own types.</summary>
public record ResponseCode(ResponseCodeKind Kind, string Name);

public sealed record CapabilityCode(IReadOnlyList<string> Capabilities) : ResponseCode(ResponseCodeKind.Capability, "CAPABILITY");

public sealed record PermanentFlagsCode(MessageFlags Flags, bool AllowsNewKeywords) : ResponseCode(ResponseCodeKind.PermanentFlags, "PERMANENTFLAGS");

public sealed record UidValidityCode(uint UidValidity) : ResponseCode(ResponseCodeKind.UidValidity, "UIDVALIDITY");

public sealed record UidNextCode(uint UidNext) : ResponseCode(ResponseCodeKind.UidNext, "UIDNEXT");

public sealed record UnseenCode(uint Sequence) : ResponseCode(ResponseCodeKind.Unseen, "UNSEEN");

public sealed record HighestModSeqCode(ulong HighestModSeq) : ResponseCode(ResponseCodeKind.HighestModSeq, "HIGHESTMODSEQ");

/// <summary>[APPENDUID uidvalidity uid-set] (RFC 4315): the UIDs the server gave appended messages.</summary>
public sealed record AppendUidCode(uint UidValidity, UidSet Uids) : ResponseCode(ResponseCodeKind.AppendUid, "APPENDUID");

/// <summary>[COPYUID uidvalidity source-set dest-set] (RFC 4315); the two sets correspond in order.</summary>
public sealed record CopyUidCode(uint UidValidity, UidSet SourceUids, UidSet DestinationUids) : ResponseCode(ResponseCodeKind.CopyUid, "COPYUID");

/// <summary>[MODIFIED set] (RFC 7162): messages an UNCHANGEDSINCE store left alone.</summary>
public sealed record ModifiedCode(UidSet Set) : ResponseCode(ResponseCodeKind.Modified, "MODIFIED");

/// <summary>A code we do not model, kept with its raw argument text.</summary>
public sealed record OtherResponseCode(string CodeName, string? Arguments) : ResponseCode(ResponseCodeKind.Other, CodeName);

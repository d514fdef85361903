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

/// <summary>A bracketed response code such as [OVERQUOTA]: what a refusal's code says the engine can do about it.</summary>
public record ResponseCode(ResponseCodeKind Kind, string Name);

/// <summary>A code we do not model, kept with its raw argument text.</summary>
public sealed record OtherResponseCode(string CodeName, string? Arguments) : ResponseCode(ResponseCodeKind.Other, CodeName);

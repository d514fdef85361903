namespace Observer.Imap;

/// <summary>
/// Untagged server data. Whatever a command does not consume is published on the client's
/// event channel, where a watcher reads it; no callback ever runs on the reader.
/// </summary>
public abstract record UntaggedResponse;

/// <summary>* OK/NO/BAD/BYE/PREAUTH [code] text — carries ALERT, UIDVALIDITY, HIGHESTMODSEQ, CLOSED and the other codes.</summary>
public sealed record UntaggedConditionResponse(ResponseCondition Condition, ResponseCode? Code, string Text) : UntaggedResponse;

public sealed record CapabilityResponse(IReadOnlyList<string> Capabilities) : UntaggedResponse;

public sealed record EnabledResponse(IReadOnlyList<string> Capabilities) : UntaggedResponse;

public sealed record ExistsResponse(uint Count) : UntaggedResponse;

public sealed record RecentResponse(uint Count) : UntaggedResponse;

/// <summary>* n EXPUNGE: a sequence number, which the receiver must map to a UID itself.</summary>
public sealed record ExpungeResponse(uint Sequence) : UntaggedResponse;

/// <summary>* VANISHED [(EARLIER)] uids (RFC 7162).</summary>
public sealed record VanishedResponse(bool Earlier, UidSet Uids) : UntaggedResponse;

public sealed record FlagsResponse(MessageFlags Flags) : UntaggedResponse;

public sealed record ListResponse(MailboxListEntry Mailbox, bool IsLsub) : UntaggedResponse;

public sealed record MailboxStatusResponse(string Mailbox, MailboxStatus Status) : UntaggedResponse;

/// <summary>* SEARCH n... [(MODSEQ m)]</summary>
public sealed record SearchResponse(IReadOnlyList<uint> Numbers, ulong? HighestModSeq) : UntaggedResponse;

/// <summary>* ESEARCH (TAG "x") [UID] ... (RFC 4731).</summary>
public sealed record ESearchResponse(string? Tag, bool IsUid, UidSet? All, uint? Count, uint? Min, uint? Max, ulong? HighestModSeq) : UntaggedResponse;

public sealed record NamespaceResponse(string? PersonalPrefix, char? PersonalDelimiter) : UntaggedResponse;

/// <summary>* n FETCH (...). Owns any literal it carries; dispose it when done.</summary>
public sealed record FetchResponse(uint Sequence, MessageData Data) : UntaggedResponse, IDisposable
{
    public void Dispose() => Data.Dispose();
}

/// <summary>A response type the library does not model. Ignored, as RFC 3501 asks of clients.</summary>
public sealed record UnknownUntaggedResponse(string Keyword) : UntaggedResponse;

/// <summary>Published when the event channel was full and events had to be dropped: the reader must resynchronise.</summary>
public sealed record EventsDroppedResponse(long Count) : UntaggedResponse;

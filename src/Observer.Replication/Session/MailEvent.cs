using Observer.Mail;

namespace Observer.Replication;

/// <summary>
/// What a watched server reported on its own, in the engine's words. Messages are named by UID: the
/// session keeps whatever bookkeeping its protocol needs (sequence numbers) below the boundary.
/// </summary>
public abstract record MailEvent;

/// <summary>Messages or flags changed in a folder that is not selected (NOTIFY's STATUS).</summary>
public sealed record FolderStatusChanged(string Folder, ulong? HighestModSeq, uint? UidNext) : MailEvent;

/// <summary>A folder was created, renamed (<see cref="OldName"/> set), deleted or (un)subscribed.</summary>
public sealed record FolderListChanged(string? OldName, string Name, bool IsSelectable) : MailEvent;

/// <summary>The watched folder has messages the session has not named yet: <see cref="IMailSession.FetchArrivalsAsync"/> names them.</summary>
public sealed record MessagesArrived : MailEvent;

/// <summary>Messages left the watched folder; <see cref="Uids"/> is empty when the session could not tell which.</summary>
public sealed record MessagesExpunged(IReadOnlySet<uint> Uids) : MailEvent;

/// <summary>A message's flags changed in the watched folder; either part may be unknown.</summary>
public sealed record MessageFlagsChanged(uint? Uid, MessageFlags? Flags, ulong? ModSeq) : MailEvent;

/// <summary>The watched folder's HIGHESTMODSEQ moved without a message being named.</summary>
public sealed record ModSeqChanged(ulong HighestModSeq) : MailEvent;

/// <summary>The server or the session dropped events: whatever they said is unknown.</summary>
public sealed record EventsLost : MailEvent;

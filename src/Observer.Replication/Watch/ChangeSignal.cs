namespace Observer.Replication;

/// <summary>Something changed on the primary. Watchers post these; the engine decides what to sync.</summary>
public abstract record ChangeSignal(DateTimeOffset SeenAt);

/// <summary>
/// Messages or flags in one folder changed. When the watcher saw the new HIGHESTMODSEQ or UIDNEXT,
/// it says so: a sync that finds less has looked too early and must look again.
/// </summary>
/// <see cref="Hints"/> is null when the watcher does not know exactly what changed. <see cref="Pushed"/>
/// says the server pushed it as it happened (NOTIFY, IDLE), rather than a poll finding it later.
public sealed record FolderChanged(string Folder, DateTimeOffset SeenAt, ulong? ModSeq = null, uint? UidNext = null, ChangeHints? Hints = null, bool Pushed = false)
    : ChangeSignal(SeenAt);

/// <summary>
/// Folders were created, renamed, deleted or (un)subscribed. A rename may name both ends; <see cref="Opens"/>
/// says the watcher saw <see cref="NewName"/> as a folder that can be opened (created or renamed to), not deleted.
/// </summary>
public sealed record TreeChanged(string? OldName, string? NewName, DateTimeOffset SeenAt, bool Opens = false) : ChangeSignal(SeenAt);

/// <summary>Changes may have been missed (a watcher reconnected, events overflowed): reconcile everything.</summary>
public sealed record ResyncAll(string Reason, DateTimeOffset SeenAt) : ChangeSignal(SeenAt);

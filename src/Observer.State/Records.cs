namespace Observer.State;

/// <summary>A replica of one account (<see cref="Account"/> is "" for a settings file without an Accounts list).</summary>
public sealed record ReplicaRecord(long Id, string Account, string Name, string Mode, int DelaySeconds, string PrimaryEndpoint, string ReplicaEndpoint);

/// <summary>A folder being replicated, with the checkpoints of both sides as of its last complete sync.</summary>
public sealed record FolderRecord
{
    public long Id { get; init; }
    public long ReplicaId { get; init; }
    public required string PrimaryName { get; init; }
    public required string ReplicaName { get; init; }
    public uint? PrimaryUidValidity { get; init; }
    public uint? PrimaryUidNext { get; init; }
    public ulong? PrimaryModSeq { get; init; }
    public uint? PrimaryMessages { get; init; }

    /// <summary>The fewest messages the primary folder held at a sync since <see cref="PrimaryLowAt"/>.</summary>
    public uint? PrimaryLow { get; init; }
    public DateTimeOffset? PrimaryLowAt { get; init; }
    public uint? ReplicaUidValidity { get; init; }
    public uint? ReplicaUidNext { get; init; }
    public ulong? ReplicaModSeq { get; init; }
    public uint? ReplicaMessages { get; init; }
    public DateTimeOffset? LastSyncedAt { get; init; }
    public DateTimeOffset? DirtySince { get; init; }

    /// <summary>For a delayed replica: when the folder was first seen gone from the primary, its deletion waiting out the delay.</summary>
    public DateTimeOffset? GoneSince { get; init; }
}

/// <summary>One primary message and its copy on the replica.</summary>
public sealed record MessageRecord
{
    public long FolderId { get; init; }
    public uint PrimaryUid { get; init; }
    public uint ReplicaUid { get; init; }
    public required byte[] Md5 { get; init; }
    public long Size { get; init; }
    public DateTimeOffset? InternalDate { get; init; }
    public required string Flags { get; init; }
    public string? MessageId { get; init; }

    /// <summary>When the primary expunged it; the replica copy is removed once the move window has passed.</summary>
    public DateTimeOffset? VanishedAt { get; init; }
}

/// <summary>A replica write: begun before it is sent, done after.</summary>
public sealed record JournalEntry
{
    public long Id { get; init; }
    public long ReplicaId { get; init; }
    public required string Folder { get; init; }
    public required string Operation { get; init; }
    public uint? PrimaryUid { get; init; }
    public byte[]? Md5 { get; init; }
    public long? Size { get; init; }
    public string? MessageId { get; init; }
    public string? Detail { get; init; }
    public string State { get; init; } = "begun";
    public DateTimeOffset BegunAt { get; init; }
}

/// <summary>A folder that keeps failing, with the server's own words, retried with backoff.</summary>
public sealed record TroubleRecord(string Folder, string Kind, string Error, DateTimeOffset Since, DateTimeOffset LastAttempt, int Attempts, DateTimeOffset NextAttempt);

/// <summary>What a running service last said about itself.</summary>
public sealed record ServiceRecord
{
    public int? Pid { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? HeartbeatAt { get; init; }
    public string? PrimaryState { get; init; }
    public string? ReplicaState { get; init; }
    public string? WatchMode { get; init; }
    public string? LastError { get; init; }
}

/// <summary>What a hold keeps from happening on the replica.</summary>
public enum HoldKind
{
    /// <summary>Deleting messages in a folder.</summary>
    Messages,

    /// <summary>Deleting the folder itself.</summary>
    Folder,
}

/// <summary>Deletions the delete guard held back, waiting for approval; <see cref="ApprovedAt"/> is set once approved.</summary>
public sealed record HoldRecord(string Folder, HoldKind Kind, int Count, string Reason, DateTimeOffset Since, DateTimeOffset? ApprovedAt);

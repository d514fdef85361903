using Observer.Mail;

namespace Observer.Replication;

/// <summary>What a folder sync is asked to do.</summary>
internal sealed record SyncRequest
{
    /// <summary>Compare everything instead of changes since the checkpoint.</summary>
    public bool Full { get; init; }

    /// <summary>Skip the delete guard (verify --repair --force).</summary>
    public bool Force { get; init; }

    /// <summary>STATUS of the folder on each side, when a LIST-STATUS already gave it: lets an unchanged folder be skipped.</summary>
    public MailboxStatus? PrimaryStatus { get; init; }

    public MailboxStatus? ReplicaStatus { get; init; }

    /// <summary>A watcher reported this folder's changes while live (pushed, or polled within seconds): its expunges are the user's own.</summary>
    public bool Witnessed { get; init; }

    /// <summary>What an IDLE watcher saw change; used where the primary has no CONDSTORE.</summary>
    public ChangeHints? Hints { get; init; }

    public static SyncRequest Incremental { get; } = new();

    public static SyncRequest Complete { get; } = new() { Full = true };
}

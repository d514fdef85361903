using Microsoft.Extensions.Logging;
using Observer.State;

namespace Observer.Replication;

/// <summary>Everything a sync step needs: both sessions, the state, the settings.</summary>
internal sealed record SyncContext
{
    public required StateStore Store { get; init; }
    public required ReplicaRecord Target { get; init; }
    public required ReplicationOptions Options { get; init; }
    public required ILogger Logger { get; init; }
    public required TimeProvider Time { get; init; }
    public required IMailSession Primary { get; init; }
    public required IMailSession Replica { get; init; }
    public required FolderNameMapper Names { get; init; }

    /// <summary>Folder lists read while the pass logged in, which its first tree sync uses instead of listing again.</summary>
    public EarlyListing? EarlyListing { get; init; }

    /// <summary>The replica's policy: a delayed replica waits before it deletes, an archive never does.</summary>
    public ReplicaTarget Policy { get; init; } = ReplicaTarget.Default;

    /// <summary>On the old primary after a promotion: what copies back, rather than removes, an extra the new primary never held.</summary>
    public ExtrasRescue? Rescue { get; init; }

    /// <summary>
    /// How long an expunge seen on the primary waits before its copy goes from the replica: the move window, so a move
    /// is replayed as a MOVE, or a delayed replica's whole delay.
    /// </summary>
    public TimeSpan ExpungeWait => Policy.WaitBeforeDeleting(Options.MoveWindow);

    /// <summary>How long a folder gone from the primary waits before it is deleted on the replica.</summary>
    public FolderDeletionDelay FolderDeletions { get; init; } = FolderDeletionDelay.None;

    /// <summary>Warnings already given, shared by every worker of the process.</summary>
    public Notices Notices { get; init; } = new();

    /// <summary>Folders the primary lists but cannot open, shared by every worker of the process.</summary>
    public PhantomFolders Phantoms { get; init; } = new();

    /// <summary>Each primary folder's UIDVALIDITY as last listed, shared by every worker of the process.</summary>
    public ListedValidities Validities { get; init; } = new();

    /// <summary>
    /// Opens a new connection within the connection budget, waiting at most the given time for room (null: none came):
    /// for a second opinion on a folder list (see <see cref="FolderListing"/>), or another append lane for a big copy
    /// (see <see cref="MessageCopier"/>). Null where every connection is new anyway.
    /// </summary>
    public Func<ServerRole, string, TimeSpan, CancellationToken, Task<IMailSession?>>? OpenSession { get; init; }

    /// <summary>
    /// How long one tree sync may spend deleting folders before it lets message changes go first (live
    /// only); null does them all, as a one-shot `sync` must.
    /// </summary>
    public TimeSpan? TreeWriteBudget { get; init; }

    public long ReplicaId => Target.Id;

    /// <summary>
    /// A pass that looks at some folders only (`--folders`): the primary's expunges are noted, not applied, since the
    /// other end of a move may be a folder it does not look at; a pass over every folder applies them.
    /// </summary>
    public bool DefersExpunges { get; init; }
}

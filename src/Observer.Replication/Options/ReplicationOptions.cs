namespace Observer.Replication;

/// <summary>The engine's settings (the Replication section of the configuration).</summary>
public sealed class ReplicationOptions
{
    public FolderOptions Folders { get; set; } = new();

    public LowLatencyOptions LowLatency { get; set; } = new();

    /// <summary>Connections to the primary per account; servers cap them (Dovecot: 10 by default).</summary>
    public int MaxConnections { get; set; } = 6;

    /// <summary>
    /// With several accounts, how many replicate live (push, with their connections held); the others are polled
    /// every <see cref="PollInterval"/>, and one with changes takes the slot of a live one that has been quiet.
    /// </summary>
    public int LiveAccounts { get; set; } = 50;

    /// <summary>With several accounts, how many polled accounts are synced at once.</summary>
    public int ParallelAccounts { get; set; } = 4;

    /// <summary>
    /// The most connections open to each server at once, all accounts together (the primary and the replica
    /// each have this many). Fewer accounts replicate live when <see cref="LiveAccounts"/> would not fit.
    /// </summary>
    public int ConnectionBudget { get; set; } = 500;

    /// <summary>
    /// How many accounts replicate live: <see cref="LiveAccounts"/>, or fewer when their connections and the
    /// polls' would not fit the <see cref="ConnectionBudget"/>.
    /// </summary>
    public int LiveAccountsWithinBudget => Math.Max(0, Math.Min(LiveAccounts, (ConnectionBudget - ParallelAccounts * ConnectionsPerAccount) / ConnectionsPerAccount));

    /// <summary>
    /// The most one account holds on a server: <see cref="MaxConnections"/> (but at least its watchers, up to
    /// three with the probed folders of low latency, and a worker), and one more for a moment when a pass reads a
    /// folder list again on a new connection. Sized so, the budget is never waited on in a steady run.
    /// </summary>
    public int ConnectionsPerAccount => Math.Max(MaxConnections, 3 + LowLatency.ProbedFolders.Count) + 1;

    /// <summary>How often folders without IDLE are checked with STATUS, and the folder list with LIST; and polled accounts synced.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// With several accounts, how often a polled account that has shown no change for ten poll intervals is
    /// polled. Most accounts of a server are quiet most of the time and each poll is a login, so a longer one
    /// saves CPU, but the first mail of a quiet account waits up to this long for the replica. Unset: as
    /// <see cref="PollInterval"/>, because a standby copy that is minutes behind loses those minutes at a failover.
    /// </summary>
    public TimeSpan? QuietPollInterval { get; set; }

    public TimeSpan EffectiveQuietPollInterval => QuietPollInterval ?? PollInterval;

    /// <summary>How often a full reconciliation pass runs while live, to catch anything a watcher missed.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromMinutes(15);

    public VerifyMode Verify { get; set; } = VerifyMode.Full;

    public WatchMode Watch { get; set; } = WatchMode.Auto;

    /// <summary>A pass that would delete more than this share of a replica folder's messages leaves the folder alone.</summary>
    public double MaxDeletePercent { get; set; } = 20;

    /// <summary>Deleting this many messages or fewer is never held back, so small folders can still shrink.</summary>
    public int MaxDeleteFloor { get; set; } = 10;

    /// <summary>
    /// An expunge on the primary waits this long before it is applied on the replica, so that a move
    /// (expunge here, new message there) is replayed as a MOVE instead of a delete and a re-upload.
    /// </summary>
    public TimeSpan MoveWindow { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// While live, a folder gone from the primary is deleted on the replica only after it stayed gone
    /// this long, so a folder deleted and recreated at once is re-mapped rather than uploaded again.
    /// </summary>
    public TimeSpan FolderDeleteDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Folders copied at once in a pass, each over its own pair of connections. Bounded by
    /// <see cref="MaxConnections"/>, less the connections the watchers and the main worker hold.
    /// </summary>
    public int ParallelFolders { get; set; } = 3;

    /// <summary>
    /// The most messages in one APPEND batch (MULTIAPPEND where offered). A copy uses about a hundredth
    /// of its messages per batch, at least 50, up to this.
    /// </summary>
    public int AppendBatchSize { get; set; } = 1000;

    /// <summary>
    /// Connections a big copy (2,000 messages or more) appends on at once, where the connection budget has room. The
    /// replica server writes an APPEND's messages one after another, so a second connection shortens a big first
    /// copy by about a fifth; but then neighbouring batches may get their replica UIDs in another order than on the
    /// primary (never their bytes, flags or dates). 1 keeps the primary's order exactly.
    /// </summary>
    public int AppendLanes { get; set; } = 2;

    /// <summary>Bytes per APPEND batch.</summary>
    public long AppendBatchBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// A message moved on the primary is moved on the replica too (MOVE, or COPY) when it is at least this large;
    /// a smaller one is uploaded again with the folder's other new mail, and its old copy expunged with the others.
    /// A MOVE costs the replica a SELECT of the old folder, the MOVE and a SELECT back: on Dovecot about 15 ms of
    /// its time, more than the upload of a small message even over a WAN, and it splits the folder's APPEND batch.
    /// 0 moves every message.
    /// </summary>
    public long MoveMinimumBytes { get; set; } = 64 * 1024;

    /// <summary>First retry delay for a folder in trouble; it doubles up to <see cref="TroubleMaxDelay"/>.</summary>
    public TimeSpan TroubleRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan TroubleMaxDelay { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// How long finished journal entries are kept before each pass prunes them: long enough to look
    /// back at recent writes when something goes wrong; entries still open are never pruned.
    /// </summary>
    public TimeSpan JournalRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Name of the single Replica section's replica in the state database; a Replicas list names each entry itself.</summary>
    public string ReplicaName { get; set; } = ReplicaTarget.DefaultName;

    /// <summary>Name of the Primary section's server: what `observer promote` and the failover report call it, and its name as a replica after a failover.</summary>
    public string PrimaryName { get; set; } = "primary";
}

public sealed class FolderOptions
{
    /// <summary>Primary folder names or patterns (* any text, % any text without the delimiter) not to replicate.</summary>
    public List<string> Exclude { get; set; } = [];

    /// <summary>
    /// When set, only primary folders matching one of these patterns are replicated (Exclude still applies). As with
    /// Exclude, a folder left out is forgotten by the state; its replica copy stays as it is.
    /// </summary>
    public List<string> Include { get; set; } = [];

    /// <summary>
    /// `--folders PATTERN` of a one-shot command: only matching folders are looked at this time. Not a setting (the
    /// private setter keeps the binder off it): folders outside it are left alone, not forgotten, and no folder is
    /// renamed or deleted, which waits for a pass that sees every folder.
    /// </summary>
    public IReadOnlyList<string> Scope { get; private set; } = [];

    public void ScopeTo(IReadOnlyList<string> patterns) => Scope = patterns;
}

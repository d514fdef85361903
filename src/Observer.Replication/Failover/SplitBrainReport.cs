using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>A message as the split-brain report shows it.</summary>
public sealed record SplitBrainMessage(uint Uid, string Md5, long Size, MessageFlags Flags, DateTimeOffset? InternalDate, string? Sender, string? Subject);

/// <summary>A message whose flags the old primary changed after the failover: the new primary's flags win.</summary>
public sealed record FlagConflict(SplitBrainMessage OnOld, MessageFlags AtFailover, MessageFlags OnNew);

/// <summary>One folder of the comparison: named as on the new primary, and as on the server compared with it.</summary>
public sealed class SplitBrainFolder(string folder, string serverFolder)
{
    public string Folder { get; } = folder;
    public string ServerFolder { get; } = serverFolder;

    /// <summary>The new primary has no such folder: created on the other side since the failover, or deleted on the new primary.</summary>
    public bool MissingOnNew { get; init; }

    /// <summary>The server compared has no such folder (only the old primary's comparison says so).</summary>
    public bool MissingOnServer { get; init; }

    /// <summary>Whether the folder was created after the failover point (the point does not know it).</summary>
    public bool CreatedSince { get; init; }

    /// <summary>Messages the new primary lacks and never had: copied back to it.</summary>
    public List<SplitBrainMessage> OnlyOnServer { get; } = [];

    /// <summary>Messages the new primary received since the failover that the old primary lacks (only the old primary's comparison).</summary>
    public List<SplitBrainMessage> OnlyOnNew { get; } = [];

    public List<FlagConflict> FlagConflicts { get; } = [];

    /// <summary>A folder to create on the new primary even with nothing in it: the old primary's user made it since the failover.</summary>
    public bool ToCreate => MissingOnNew && (CreatedSince || OnlyOnServer.Count > 0);

    public bool HasFindings => OnlyOnServer.Count > 0 || OnlyOnNew.Count > 0 || FlagConflicts.Count > 0 || (MissingOnNew && CreatedSince) || (MissingOnServer && CreatedSince);
}

/// <summary>What exists on one side only since a failover, between the new primary and one server that followed the old one.</summary>
public sealed class SplitBrainReport(FailoverCheck check)
{
    public FailoverCheck Check { get; } = check;

    /// <summary>Whether the server compared is the old primary (else another mirror of it).</summary>
    public bool OfOldPrimary => Check.Server == Check.Failover.OldPrimary;

    public List<SplitBrainFolder> Folders { get; } = [];

    /// <summary>What earlier copy-backs from this server took to the new primary.</summary>
    public IReadOnlyList<FailoverCopy> Copied { get; init; } = [];

    public bool HasFindings => Folders.Any(f => f.HasFindings);
}

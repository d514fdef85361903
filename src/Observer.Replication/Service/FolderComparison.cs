using Observer.Mail;

namespace Observer.Replication;

/// <summary>One message as verify sees it: its bytes' MD5, its flags and internal date.</summary>
public sealed record VerifiedMessage(uint Uid, byte[] Md5, long Size, MessageFlags Flags, DateTimeOffset? InternalDate, string? MessageId);

/// <summary>How one folder differs between the two servers.</summary>
public sealed class FolderComparison(string folder, string replicaFolder)
{
    public string Folder { get; } = folder;
    public string ReplicaFolder { get; } = replicaFolder;
    public bool ReplicaFolderMissing { get; set; }
    public int PrimaryCount { get; set; }
    public int ReplicaCount { get; set; }

    /// <summary>Pairs with the same bytes and date; their flags may still differ.</summary>
    public List<(VerifiedMessage Primary, VerifiedMessage Replica)> Matched { get; } = [];
    public List<VerifiedMessage> MissingOnReplica { get; } = [];

    /// <summary>Of <see cref="Matched"/>, how many the replica server keeps in its own form (line endings, 8-bit headers).</summary>
    public int Altered { get; set; }
    public List<VerifiedMessage> ExtraOnReplica { get; } = [];

    /// <summary>Copies the primary expunged that this replica keeps by its policy (an archive's, a delayed replica's held ones), as its state records them.</summary>
    public List<VerifiedMessage> KeptOnReplica { get; } = [];

    /// <summary>Replica copies (by UID) whose extra flags are removals a delayed replica holds, as its state records them.</summary>
    public HashSet<uint> FlagRemovalsHeld { get; } = [];

    /// <summary>Replica copies (by UID) whose flags differed in one look and not the same way in the next: a change on its way.</summary>
    public HashSet<uint> FlagsInFlight { get; } = [];

    public IEnumerable<(VerifiedMessage Primary, VerifiedMessage Replica)> FlagMismatches =>
        Matched.Where(m => !m.Primary.Flags.Equals(m.Replica.Flags) && !FlagRemovalsHeld.Contains(m.Replica.Uid) && !FlagsInFlight.Contains(m.Replica.Uid));

    /// <summary>
    /// This later look at the folder, keeping only the differences <paramref name="earlier"/> saw too: beside a running
    /// service, a message missing, extra or flagged differently in only one look was a change on its way.
    /// </summary>
    public void KeepOnlyWhatPersists(FolderComparison earlier)
    {
        static string Key(VerifiedMessage m) => $"{m.Uid}:{Convert.ToHexString(m.Md5)}";
        var missing = earlier.MissingOnReplica.Select(Key).ToHashSet(StringComparer.Ordinal);
        MissingOnReplica.RemoveAll(m => !missing.Contains(Key(m)));
        var extra = earlier.ExtraOnReplica.Select(Key).ToHashSet(StringComparer.Ordinal);
        ExtraOnReplica.RemoveAll(m => !extra.Contains(Key(m)));
        var flags = earlier.FlagMismatches.Select(m => (m.Replica.Uid, Primary: m.Primary.Flags.ToString(), Replica: m.Replica.Flags.ToString())).ToHashSet();
        foreach (var (primary, replica) in FlagMismatches.ToList())
            if (!flags.Contains((replica.Uid, primary.Flags.ToString(), replica.Flags.ToString()))) FlagsInFlight.Add(replica.Uid);
        ReplicaFolderMissing &= earlier.ReplicaFolderMissing;
    }

    public bool Identical => !ReplicaFolderMissing && MissingOnReplica.Count == 0 && ExtraOnReplica.Count == 0 && !FlagMismatches.Any();

    public string Describe()
    {
        var kept = (KeptOnReplica.Count > 0 ? $", and {KeptOnReplica.Count} more the replica keeps" : "")
            + (FlagRemovalsHeld.Count > 0 ? $", {FlagRemovalsHeld.Count} with a flag removal held" : "");
        if (Identical) return (Altered == 0 ? $"{PrimaryCount} messages identical" : $"{PrimaryCount} messages identical, {Altered} of them in the form the replica server stores them in (line endings, NUL or 8-bit header bytes)") + kept;
        var parts = new List<string>();
        if (ReplicaFolderMissing) parts.Add("folder missing on the replica");
        if (MissingOnReplica.Count > 0) parts.Add($"{MissingOnReplica.Count} missing on the replica");
        if (ExtraOnReplica.Count > 0) parts.Add($"{ExtraOnReplica.Count} only on the replica");
        var flags = FlagMismatches.Count();
        if (flags > 0) parts.Add($"{flags} with different flags");
        return string.Join(", ", parts) + kept;
    }
}

public sealed class VerifyReport
{
    public List<FolderComparison> Folders { get; } = [];

    /// <summary>Replica folders with no counterpart on the primary, with their message counts.</summary>
    public List<(string Folder, uint Messages)> ReplicaOnlyFolders { get; } = [];

    /// <summary>Replica folders the primary deleted that this replica keeps by its policy: an archive's, a delayed replica's within its delay.</summary>
    public List<(string Folder, uint Messages)> KeptFolders { get; } = [];

    public bool Identical => Folders.All(f => f.Identical) && ReplicaOnlyFolders.Count == 0;
}

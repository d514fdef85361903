namespace Observer.Replication;

public enum FolderOutcome
{
    Unchanged,
    Synced,

    /// <summary>The delete guard left the folder alone.</summary>
    Held,

    Failed,
}

/// <summary>What one folder sync did.</summary>
public sealed class FolderSyncResult(string folder)
{
    public string Folder { get; } = folder;
    public FolderOutcome Outcome { get; set; } = FolderOutcome.Synced;
    public int Appended { get; set; }
    public int Adopted { get; set; }
    public int Moved { get; set; }
    public int FlagsSet { get; set; }
    public int Vanished { get; set; }
    public int ExtrasRemoved { get; set; }
    public string? Message { get; set; }

    public bool ChangedAnything => Appended + Adopted + Moved + FlagsSet + Vanished + ExtrasRemoved > 0;

    public string Summary()
    {
        if (Outcome is FolderOutcome.Held or FolderOutcome.Failed) return Message ?? Outcome.ToString();
        var parts = new List<string>();
        if (Appended > 0) parts.Add($"{Appended} appended");
        if (Adopted > 0) parts.Add($"{Adopted} adopted");
        if (Moved > 0) parts.Add($"{Moved} moved");
        if (FlagsSet > 0) parts.Add($"{FlagsSet} flag updates");
        if (Vanished > 0) parts.Add($"{Vanished} expunges");
        if (ExtrasRemoved > 0) parts.Add($"{ExtrasRemoved} extra removed");
        return parts.Count == 0 ? "no changes" : string.Join(", ", parts);
    }
}

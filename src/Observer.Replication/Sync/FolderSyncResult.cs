namespace Observer.Replication;

public enum FolderOutcome
{
    Unchanged,
    Synced,

    /// <summary>Synced, except deletions the delete guard held back for approval.</summary>
    Held,

    /// <summary>Synced, except messages the replica refused or the primary did not send; they are tried again at the next sync.</summary>
    Incomplete,

    Failed,
}

/// <summary>What one folder sync did.</summary>
public sealed class FolderSyncResult(string folder)
{
    public string Folder { get; } = folder;
    public FolderOutcome Outcome { get; set; } = FolderOutcome.Synced;
    public int Appended { get; set; }

    /// <summary>Replica connections beyond the first that appended part of a big copy (see <see cref="ReplicationOptions.AppendLanes"/>).</summary>
    public int MoreLanes { get; set; }
    public int Adopted { get; set; }
    public int Moved { get; set; }
    public int FlagsSet { get; set; }
    /// <summary>The primary's expunges this sync accounted for: noted now, or noted before and applied now.</summary>
    public int Vanished { get; set; }
    public int ExtrasRemoved { get; set; }

    /// <summary>Copies this sync removed from the replica for the primary's expunges (the rest wait for the move window).</summary>
    public int Expunged { get; set; }

    public string? Message { get; set; }

    /// <summary>Copies the replica server stored in its own form (line endings, 8-bit headers): kept, and reported.</summary>
    public int Altered { get; set; }

    /// <summary>
    /// Messages the primary listed but whose body came back empty or not at all (expunged while fetched, or
    /// lost on the way): not copied, and the folder is read whole next time, so none is passed over.
    /// </summary>
    public int NotDelivered { get; set; }

    /// <summary>
    /// Those of <see cref="NotDelivered"/> whose body did not come at all, even asked for alone: gone since, or
    /// a primary that will not send them. Unlike an empty body (Dovecot's answer for a message expunged
    /// meanwhile), the folder cannot be called up to date.
    /// </summary>
    public int NotSent { get; set; }

    /// <summary>Copies stored without keywords the replica folder cannot hold (Cyrus: 100 per folder).</summary>
    public int KeywordsDropped { get; set; }

    /// <summary>Messages the replica refused to store, and the first reason it gave.</summary>
    public int Refused { get; set; }

    public string? RefusedReason { get; set; }

    /// <summary>With <see cref="FolderOutcome.Held"/>: how many replica copies wait for approval to be deleted.</summary>
    public int HeldDeletions { get; set; }

    public bool ChangedAnything => Appended + Adopted + Moved + FlagsSet + Vanished + Expunged + ExtrasRemoved > 0;

    /// <summary>Whether this sync stored, moved in, flagged or removed anything in the replica folder.</summary>
    public bool WroteToReplica => Appended + Moved + FlagsSet + ExtrasRemoved + Expunged > 0;

    public string Summary()
    {
        if (Outcome is FolderOutcome.Failed) return Message ?? Outcome.ToString();
        if (Outcome is FolderOutcome.Incomplete) return $"{Shortfall()}; {Counts()}";
        if (Outcome is FolderOutcome.Held) return ChangedAnything ? $"{Counts()}; deletions held: {Message}" : Message ?? Outcome.ToString();
        return Counts();
    }

    /// <summary>What an incomplete sync left for the next one.</summary>
    private string Shortfall()
    {
        var parts = new List<string>();
        if (Refused > 0) parts.Add($"{Refused} messages refused by the replica ({RefusedReason})");
        if (NotSent > 0) parts.Add($"{NotSent} messages listed but not sent by the primary (expunged meanwhile, or lost on the way)");
        return string.Join("; ", parts) + ", tried again at the next sync";
    }

    /// <summary>What was done, in numbers.</summary>
    public string Counts()
    {
        var parts = new List<string>();
        if (Appended > 0) parts.Add(MoreLanes > 0 ? $"{Appended} appended on {MoreLanes + 1} connections" : $"{Appended} appended");
        if (Adopted > 0) parts.Add($"{Adopted} adopted");
        if (Moved > 0) parts.Add($"{Moved} moved");
        if (FlagsSet > 0) parts.Add(Counted.Of(FlagsSet, "flag update"));
        if (Vanished > 0) parts.Add(Counted.Of(Vanished, "expunge"));
        if (ExtrasRemoved > 0) parts.Add(Counted.Of(ExtrasRemoved, "extra") + " removed");
        if (Altered > 0) parts.Add($"{Altered} stored altered by the replica");
        if (KeywordsDropped > 0) parts.Add($"{KeywordsDropped} without keywords the replica folder cannot hold");
        return parts.Count == 0 ? "no changes" : string.Join(", ", parts);
    }
}

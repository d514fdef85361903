namespace Observer.Replication;

/// <summary>
/// Translates a primary folder name into the replica's: hierarchy delimiter and personal namespace
/// prefix (Courier and Cyrus put everything under "INBOX."). A delimiter of the replica that appears
/// inside a primary name segment would split it, so it is replaced by '_'.
/// </summary>
public sealed class FolderNameMapper(char? primaryDelimiter, string primaryPrefix, char? replicaDelimiter, string replicaPrefix)
{
    public char? PrimaryDelimiter { get; } = primaryDelimiter;
    public char? ReplicaDelimiter { get; } = replicaDelimiter;

    public static FolderNameMapper For(IMailSession primary, IMailSession replica) =>
        new(primary.Delimiter, primary.PersonalPrefix, replica.Delimiter, replica.PersonalPrefix);

    public string ToReplica(string primaryName)
    {
        if (IsInbox(primaryName)) return "INBOX";
        var relative = primaryName.StartsWith(primaryPrefix, StringComparison.Ordinal) && primaryPrefix.Length > 0
            ? primaryName[primaryPrefix.Length..]
            : primaryName;
        var segments = PrimaryDelimiter is { } pd ? relative.Split(pd) : [relative];
        if (ReplicaDelimiter is { } rd)
        {
            for (var i = 0; i < segments.Length; i++) segments[i] = segments[i].Replace(rd, '_');
            // "INBOX/Sub" keeps INBOX as the parent whatever the prefix.
            var joined = string.Join(rd, segments);
            return IsInbox(segments[0]) ? "INBOX" + joined[segments[0].Length..] : replicaPrefix + joined;
        }
        return replicaPrefix + string.Concat(segments);
    }

    /// <summary>The parent of a folder on the primary, or null at the top.</summary>
    public string? PrimaryParent(string primaryName)
    {
        if (PrimaryDelimiter is not { } d) return null;
        var at = primaryName.LastIndexOf(d);
        return at > 0 ? primaryName[..at] : null;
    }

    public static bool IsInbox(string name) => name.Equals("INBOX", StringComparison.OrdinalIgnoreCase);
}

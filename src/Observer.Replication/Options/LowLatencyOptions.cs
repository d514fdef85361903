namespace Observer.Replication;

/// <summary>
/// Low-latency mode (the Replication:LowLatency section). Servers hold back IDLE and NOTIFY pushes
/// (Dovecot by 500 ms); a NOOP makes the server look at the mailbox at once. So each chosen folder
/// gets its own connection that sends NOOP every <see cref="Interval"/>, at some CPU cost on both sides.
/// </summary>
public sealed class LowLatencyOptions
{
    public bool Enabled { get; set; }

    /// <summary>Primary folder names to probe; INBOX when empty.</summary>
    public List<string> Folders { get; set; } = [];

    public TimeSpan Interval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The folders probed: none when disabled.</summary>
    public IReadOnlyList<string> ProbedFolders => !Enabled ? [] : Folders.Count == 0 ? ["INBOX"] : Folders.Distinct(StringComparer.Ordinal).ToList();
}

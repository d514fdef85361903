using System.Diagnostics;
using System.Diagnostics.Metrics;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// What replication did, as .NET metrics (System.Diagnostics.Metrics) on the meter "Observer": the engine counts,
/// and whoever listens (the service's /metrics) decides how to show it. Each measurement is tagged with its account
/// and replica. What the state already knows (lag, troubles, holds) is read from the state, not counted here.
/// </summary>
public static class ReplicationMetrics
{
    public const string MeterName = "Observer";

    private static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> MessagesCopied = Meter.CreateCounter<long>("observer.messages.copied", "{message}", "Messages appended to a replica");

    public static readonly Counter<long> BytesCopied = Meter.CreateCounter<long>("observer.bytes.copied", "By", "Bytes of messages appended to a replica");

    /// <summary>
    /// Messages a copy has yet to append, tagged with the folder: raised when a folder's copy starts and lowered as each batch
    /// lands (or the copy ends), for progress displays.
    /// </summary>
    public static readonly UpDownCounter<long> CopyQueued = Meter.CreateUpDownCounter<long>("observer.copy.queued", "{message}", "Messages a folder's copy has yet to append");

    /// <summary>Messages a comparison (verify, a dry run) has yet to read, on both servers, tagged with the folder: for progress displays.</summary>
    public static readonly UpDownCounter<long> VerifyQueued = Meter.CreateUpDownCounter<long>("observer.verify.queued", "{message}", "Messages a folder's comparison has yet to read");

    public static readonly Counter<long> MessagesVerified = Meter.CreateCounter<long>("observer.messages.verified", "{message}", "Messages read and hashed by a comparison");

    public static readonly Counter<long> BytesVerified = Meter.CreateCounter<long>("observer.bytes.verified", "By", "Bytes read and hashed by a comparison");

    /// <summary>Tagged with the kind of write: append, flags, move, expunge, extra, create, rename, delete.</summary>
    public static readonly Counter<long> Writes = Meter.CreateCounter<long>("observer.writes", "{write}", "Writes to a replica, by kind");

    /// <summary>Tagged with the kind: folder (a folder's sync failed), connection (a server was lost or refused).</summary>
    public static readonly Counter<long> Errors = Meter.CreateCounter<long>("observer.errors", "{error}", "Replication errors, by kind");

    public static void Wrote(ReplicaRecord target, string kind, long count)
    {
        if (count > 0) Writes.Add(count, Tags(target, ("kind", kind)));
    }

    /// <summary>By the names in the settings, not the state's row: a failure to reach the state is counted too.</summary>
    public static void Failed(string account, string replica, string kind) => Errors.Add(1, new TagList { { "account", account }, { "replica", replica }, { "kind", kind } });

    /// <summary>Counted as each batch lands, so a long first copy shows its progress.</summary>
    public static void Appended(ReplicaRecord target, string folder, int messages, long bytes)
    {
        MessagesCopied.Add(messages, Tags(target, ("folder", folder)));
        BytesCopied.Add(bytes, Tags(target, ("folder", folder)));
        CopyQueued.Add(-messages, Tags(target, ("folder", folder)));
        Wrote(target, "append", messages);
    }

    /// <summary>A folder's copy starts with this many messages to append; <see cref="CopyEnded"/> takes back what it did not.</summary>
    public static void CopyStarted(ReplicaRecord target, string folder, int messages) => CopyQueued.Add(messages, Tags(target, ("folder", folder)));

    public static void CopyEnded(ReplicaRecord target, string folder, int left)
    {
        if (left > 0) CopyQueued.Add(-left, Tags(target, ("folder", folder)));
    }

    /// <summary>One folder sync's other writes, counted when it ends.</summary>
    public static void Synced(ReplicaRecord target, FolderSyncResult result)
    {
        Wrote(target, "flags", result.FlagsSet);
        Wrote(target, "move", result.Moved);
        Wrote(target, "extra", result.ExtrasRemoved);
    }

    internal static TagList FolderTags(ReplicaRecord target, string folder) => Tags(target, ("folder", folder));

    private static TagList Tags(ReplicaRecord target, (string Key, string Value)? extra = null)
    {
        var tags = new TagList { { "account", target.Account }, { "replica", target.Name } };
        if (extra is { } e) tags.Add(e.Key, e.Value);
        return tags;
    }
}

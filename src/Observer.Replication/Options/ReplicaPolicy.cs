namespace Observer.Replication;

/// <summary>What a replica does with the primary's destructive changes (expunges, folder deletions, flag removals).</summary>
public enum ReplicaPolicy
{
    /// <summary>Follows the primary exactly.</summary>
    Mirror,

    /// <summary>
    /// Applies new mail, new folders and flag changes at once, but expunges and folder deletions only once they are older
    /// than <see cref="ReplicaTarget.Delay"/>: a copy to recover from a logical mistake without a backup.
    /// </summary>
    Delayed,

    /// <summary>Never expunges a message and never deletes a folder: everything the primary ever held stays.</summary>
    Archive,
}

/// <summary>One replica of an account: its name in the state and logs, and its policy.</summary>
/// <param name="Name">The replica's name (Replicas:N:Name); "replica" for the settings' single Replica section.</param>
/// <param name="Delay">For <see cref="ReplicaPolicy.Delayed"/>: how old a destructive change must be before it is applied.</param>
/// <param name="ArchiveKeyword">For <see cref="ReplicaPolicy.Archive"/>: a keyword set on the copies the primary expunged, if any.</param>
public sealed record ReplicaTarget(string Name, ReplicaPolicy Policy = ReplicaPolicy.Mirror, TimeSpan Delay = default, string? ArchiveKeyword = null)
{
    /// <summary>The settings' single Replica section, before the Replicas list.</summary>
    public const string DefaultName = "replica";

    public static ReplicaTarget Default { get; } = new(DefaultName);

    /// <summary>Whether expunges and folder deletions wait out <see cref="Delay"/>.</summary>
    public bool Delays => Policy == ReplicaPolicy.Delayed && Delay > TimeSpan.Zero;

    /// <summary>How long a deletion seen on the primary waits: <paramref name="usual"/> (a move window, a folder's short delay), or the whole delay of a delayed replica.</summary>
    public TimeSpan WaitBeforeDeleting(TimeSpan usual) => Delays && Delay > usual ? Delay : usual;

    /// <summary>Whether copies the primary expunged are kept rather than expunged.</summary>
    public bool Keeps => Policy == ReplicaPolicy.Archive;

    /// <summary>Whether a message the primary never had (or no longer has) may stay on the replica: never removed as an extra.</summary>
    public bool ToleratesExtras => Policy != ReplicaPolicy.Mirror;

    /// <summary>The policy as the state database and `observer status` write it.</summary>
    public string Mode => Policy.ToString().ToLowerInvariant();

    /// <summary>A duration as an admin would say it: 24 h, 90 s.</summary>
    public static string Describe(TimeSpan span) =>
        span.TotalDays >= 1 && span.TotalHours % 24 == 0 ? $"{span.TotalDays:0.#} d"
        : span.TotalHours >= 1 ? $"{span.TotalHours:0.#} h"
        : span.TotalMinutes >= 1 ? $"{span.TotalMinutes:0.#} min"
        : $"{span.TotalSeconds:0.#} s";
}

using Microsoft.Extensions.Logging;
using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// Keeps one bad folder from stopping the rest: its failure is recorded with the server's words,
/// and it is retried with a doubling delay while every other folder goes on.
/// </summary>
internal sealed class TroubleTracker(StateStore store, long replicaId, ReplicationOptions options, TimeProvider time, ILogger logger)
{
    public bool IsWaiting(string folder) =>
        store.Troubles.Find(replicaId, folder) is { } trouble && trouble.NextAttempt > time.GetUtcNow();

    public IReadOnlyList<string> Due() =>
        store.Troubles.All(replicaId).Where(t => t.NextAttempt <= time.GetUtcNow()).Select(t => t.Folder).ToList();

    public bool IsDue(string folder) =>
        store.Troubles.Find(replicaId, folder) is { } trouble && trouble.NextAttempt <= time.GetUtcNow();

    /// <summary>A retry that found nothing to do pushes the next one back, as a failed one would.</summary>
    public void Postpone(string folder)
    {
        if (store.Troubles.Find(replicaId, folder) is { } trouble) Record(folder, trouble.Kind, trouble.Error);
    }

    public DateTimeOffset? NextRetry() => store.Troubles.All(replicaId).Select(t => (DateTimeOffset?)t.NextAttempt).Min();

    public void Record(string folder, string kind, string error)
    {
        var attempts = (store.Troubles.Find(replicaId, folder)?.Attempts ?? 0) + 1;
        var delay = TimeSpan.FromTicks(Math.Min(options.TroubleMaxDelay.Ticks, options.TroubleRetryDelay.Ticks * (1L << Math.Min(attempts - 1, 20))));
        var trouble = store.Troubles.Record(replicaId, folder, kind, error, time.GetUtcNow() + delay);
        Log.FolderTrouble(logger, folder, trouble.Attempts, trouble.NextAttempt, error);
    }

    public void Clear(string folder)
    {
        if (store.Troubles.Find(replicaId, folder) is null) return;
        store.Troubles.Clear(replicaId, folder);
        Log.FolderRecovered(logger, folder);
    }

    /// <summary>Errors that concern one folder. Connection failures are not: they stop the pass and reconnect.</summary>
    public static bool IsFolderError(Exception ex) =>
        ex is ImapCommandException or ReplicationException or NotSupportedException;

    /// <summary>
    /// Whether a refused APPEND or STORE is about its messages (size, content, keywords) rather than the
    /// folder or the account: those are dealt with message by message, never by holding the folder back.
    /// </summary>
    public static bool ConcernsTheMessages(ImapCommandException ex) =>
        ex.Code?.Kind is not (ResponseCodeKind.TryCreate or ResponseCodeKind.NonExistent or ResponseCodeKind.OverQuota or ResponseCodeKind.NoPerm
            or ResponseCodeKind.Unavailable or ResponseCodeKind.InUse or ResponseCodeKind.ServerBug);

    /// <summary>The words to show an admin: the server's own, verbatim, with its response code.</summary>
    public static string Describe(Exception ex) => ex switch
    {
        ImapCommandException c => $"{c.Command} refused by the server: {(c.Code is null ? "" : $"[{c.Code.Name}] ")}{c.ServerText}",
        _ => ex.Message,
    };
}

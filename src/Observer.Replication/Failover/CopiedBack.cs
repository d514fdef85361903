using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// Copies messages of a server that followed the old primary to the new primary (flags less \Deleted, same internal date)
/// and records each copy as it lands, with its MD5, so that no server copies it back again. The caller holds the
/// failover's <see cref="CopyBackLock"/>.
/// </summary>
internal static class CopiedBack
{
    /// <returns>How many were copied.</returns>
    public static async Task<int> CopyAsync(SyncContext context, FailoverCheck check, string serverFolder, string newFolder,
        IReadOnlyList<SplitBrainMessage> messages, CancellationToken cancellationToken)
    {
        var byUid = messages.ToDictionary(m => m.Uid);
        var copied = 0;
        await MessageTransfer.CopyAsync(context.Replica, serverFolder, context.Primary, newFolder,
            byUid.ToDictionary(m => m.Key, m => (m.Value.Flags.Without(MessageFlags.Deleted), m.Value.InternalDate)), uids =>
            {
                var now = context.Time.GetUtcNow();
                foreach (var m in uids.Select(u => byUid[u]))
                {
                    context.Store.Failovers.AddCopy(check.Failover.Id, new FailoverCopy(check.Server, newFolder, Convert.FromHexString(m.Md5), m.InternalDate, m.Sender, m.Subject, m.Size, now));
                    Log.CopiedBack(context.Logger, check.Server, newFolder, m.InternalDate, m.Sender ?? "(no sender)", m.Subject ?? "(no subject)", m.Size);
                }
                copied += uids.Count;
            }, cancellationToken).ConfigureAwait(false);
        return copied;
    }

    /// <summary>The MD5s (hex) of what has been copied back for a failover, from any server.</summary>
    public static HashSet<string> Md5s(StateStore store, FailoverCheck check) =>
        store.Failovers.Copies(check.Failover.Id).Select(c => Md5.Hex(c.Md5)).ToHashSet(StringComparer.Ordinal);
}

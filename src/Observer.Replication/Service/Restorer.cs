using Observer.Mail;

namespace Observer.Replication;

/// <summary>What `observer restore` copied back, per primary folder.</summary>
public sealed class RestoreReport
{
    public List<(string Folder, int Messages, bool Created)> Folders { get; } = [];

    public int Messages => Folders.Sum(f => f.Messages);
}

/// <summary>
/// `observer restore --from REPLICA`: copies back to the primary what a replica still holds and the primary has lost (a delayed
/// replica within its delay, an archive for ever), with its flags and internal date, into the folder it was in (created again
/// if it is gone). A message whose bytes are anywhere on the primary is not copied, so a moved message is not doubled and a
/// second run copies nothing. It only adds to the primary; the replicas then follow as for any new mail.
/// </summary>
internal sealed class Restorer(SyncContext context, FolderFilter filter)
{
    public async Task<RestoreReport> RunAsync(string? onlyFolder, DateTimeOffset? since, CancellationToken cancellationToken)
    {
        var report = new RestoreReport();
        var known = context.Store.Folders.All(context.ReplicaId).ToDictionary(f => f.ReplicaName, f => f.PrimaryName, StringComparer.Ordinal);
        // Primary names for replica folders observer never mapped (an archive keeps folders the primary deleted and their maps went).
        var back = FolderNameMapper.For(context.Replica, context.Primary);
        var primaryFolders = (await context.Primary.ListAsync(false, cancellationToken).ConfigureAwait(false))
            .Where(m => m.Mailbox.IsSelectable).Select(m => m.Mailbox.Name).ToHashSet(StringComparer.Ordinal);
        var onPrimary = new HashSet<string>(StringComparer.Ordinal);
        foreach (var folder in primaryFolders)
            foreach (var m in await Verifier.ReadAsync(context.Primary, folder, cancellationToken).ConfigureAwait(false)) onPrimary.Add(Md5.Hex(m.Md5));

        var replicaFolders = (await context.Replica.ListAsync(false, cancellationToken).ConfigureAwait(false)).Where(m => m.Mailbox.IsSelectable).Select(m => m.Mailbox.Name);
        foreach (var replicaFolder in replicaFolders.Order(StringComparer.Ordinal))
        {
            var primaryName = known.GetValueOrDefault(replicaFolder) ?? back.ToReplica(replicaFolder);
            if ((onlyFolder is not null && primaryName != onlyFolder) || !filter.Includes(primaryName)) continue;
            var lost = (await Verifier.ReadAsync(context.Replica, replicaFolder, cancellationToken).ConfigureAwait(false))
                .Where(m => (since is null || m.InternalDate >= since) && onPrimary.Add(Md5.Hex(m.Md5)))
                .ToDictionary(m => m.Uid);
            if (lost.Count == 0) continue;
            var created = !primaryFolders.Contains(primaryName);
            if (created)
            {
                await context.Primary.CreateAsync(primaryName, cancellationToken).ConfigureAwait(false);
                primaryFolders.Add(primaryName);
            }
            var wanted = lost.ToDictionary(l => l.Key, l => (Restored(l.Value.Flags), l.Value.InternalDate));
            await MessageTransfer.CopyAsync(context.Replica, replicaFolder, context.Primary, primaryName, wanted, null, cancellationToken).ConfigureAwait(false);
            report.Folders.Add((primaryName, lost.Count, created));
        }
        return report;
    }

    /// <summary>The copy's flags, less the archive's own mark, \Recent (which no client may set) and \Deleted (set just before the loss).</summary>
    private MessageFlags Restored(MessageFlags flags)
    {
        var restored = flags.WithoutRecent().Without(MessageFlags.Deleted);
        return context.Policy.ArchiveKeyword is { } keyword ? restored.Without(keyword) : restored;
    }
}

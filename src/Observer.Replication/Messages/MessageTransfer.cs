using Observer.Mail;

namespace Observer.Replication;

/// <summary>
/// Copies chosen messages of one server's folder into another server's folder, with the flags and internal date given,
/// a batch at a time so that bodies wait on disk or in memory only between a fetch and its append. What `observer restore`
/// and the split-brain copy-back write with: both only add to a primary.
/// </summary>
internal static class MessageTransfer
{
    private const int BatchSize = 50;

    /// <param name="afterBatch">Called with the UIDs of each batch once it is appended, to record what was done as it is done.</param>
    public static async Task CopyAsync(IMailSession from, string fromFolder, IMailSession to, string toFolder,
        IReadOnlyDictionary<uint, (MessageFlags Flags, DateTimeOffset? InternalDate)> messages, Action<IReadOnlyList<uint>>? afterBatch,
        CancellationToken cancellationToken)
    {
        if (messages.Count == 0) return;
        // A folder the caller has open already (read-write, to expunge next) stays as it is.
        if (from.SelectedFolder != fromFolder) await from.SelectAsync(fromFolder, readOnly: true, null, cancellationToken).ConfigureAwait(false);
        foreach (var chunk in messages.Keys.Order().Chunk(BatchSize))
        {
            var batch = new List<MessageData>();
            try
            {
                await foreach (var m in from.FetchBodiesAsync(UidSet.FromUids(chunk), cancellationToken).ConfigureAwait(false)) batch.Add(m);
                var found = batch.Where(m => m.Uid is { } uid && messages.ContainsKey(uid) && m.Body is not null).ToList();
                var appends = found.Select(m => new AppendMessage(m.Body!, messages[m.Uid!.Value].Flags, messages[m.Uid!.Value].InternalDate)).ToList();
                await to.AppendAsync(toFolder, appends, cancellationToken).ConfigureAwait(false);
                afterBatch?.Invoke(found.Select(m => m.Uid!.Value).ToList());
            }
            finally
            {
                foreach (var m in batch) m.Dispose();
            }
        }
    }
}

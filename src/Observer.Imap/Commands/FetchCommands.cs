using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Observer.Imap;

internal static class FetchCommands
{
    private const int StreamBuffer = 32;

    public static async Task<FetchResult> FetchAsync(ImapClient client, UidSet uids, FetchRequest request, CancellationToken cancellationToken)
    {
        var messages = new CollectingHandler<FetchResponse>(r => IsAnswer(r.Data, uids, request));
        var vanished = new CollectingHandler<VanishedResponse>(r => r.Earlier && request.Vanished);
        try
        {
            await client.ExecuteOkAsync(Build(client, uids, request), new CompositeHandler(messages, vanished), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            foreach (var m in messages.Items) m.Dispose();
            throw;
        }
        var gone = vanished.Items.Count == 0 ? UidSet.Empty : UidSet.FromUids(vanished.Items.SelectMany(v => v.Uids.Expand()));
        return new FetchResult(messages.Items.Select(m => m.Data).ToList(), gone);
    }

    public static async IAsyncEnumerable<MessageData> FetchStreamAsync(
        ImapClient client, UidSet uids, FetchRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<MessageData>(new BoundedChannelOptions(StreamBuffer) { SingleReader = true, SingleWriter = true });
        var handler = new StreamingHandler(channel.Writer, uids, request);
        var command = client.ExecuteOkAsync(Build(client, uids, request), handler, cancellationToken);
        _ = command.ContinueWith(t => channel.Writer.TryComplete(t.Exception?.InnerException), TaskScheduler.Default);
        try
        {
            await foreach (var message in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                yield return message;
            await command.ConfigureAwait(false);
        }
        finally
        {
            // Stopped early: discard the rest so the connection's reader is never left blocked on us.
            handler.Abandon();
            while (channel.Reader.TryRead(out var left)) left.Dispose();
        }
    }

    private static ImapCommand Build(ImapClient client, UidSet uids, FetchRequest request)
    {
        var items = new List<string> { "UID" };
        var wanted = request.Items;
        if (wanted.HasFlag(FetchItems.Flags)) items.Add("FLAGS");
        if (wanted.HasFlag(FetchItems.InternalDate)) items.Add("INTERNALDATE");
        if (wanted.HasFlag(FetchItems.Size)) items.Add("RFC822.SIZE");
        if (wanted.HasFlag(FetchItems.ModSeq) && client.Capabilities.CondStore) items.Add("MODSEQ");
        if (wanted.HasFlag(FetchItems.Body)) items.Add("BODY.PEEK[]");
        if (request.HeaderFields is { Count: > 0 } fields) items.Add($"BODY.PEEK[HEADER.FIELDS ({string.Join(' ', fields)})]");

        var command = client.Command("UID FETCH").Sp().Text(uids.ToString()).Text(" (").Text(string.Join(' ', items)).Text(")");
        if (request.ChangedSince is { } since && client.Capabilities.CondStore)
        {
            command.Text(" (CHANGEDSINCE ").Number(since);
            if (request.Vanished && client.IsEnabled("QRESYNC")) command.Text(" VANISHED");
            command.Text(")");
        }
        return command;
    }

    /// <summary>
    /// Whether a FETCH answers our request rather than being an unsolicited flag update
    /// (which then goes to the event channel, where a watcher wants it).
    /// </summary>
    private static bool IsAnswer(MessageData data, UidSet uids, FetchRequest request) =>
        data.Uid is { } uid && uids.Contains(uid)
        && (!request.Items.HasFlag(FetchItems.Body) || data.Body is not null)
        && (request.HeaderFields is not { Count: > 0 } || data.HeaderFields is not null);

    private sealed class StreamingHandler(ChannelWriter<MessageData> writer, UidSet uids, FetchRequest request) : IUntaggedHandler
    {
        private volatile bool _abandoned;

        public void Abandon() => _abandoned = true;

        public async ValueTask<bool> HandleAsync(UntaggedResponse response, CancellationToken cancellationToken)
        {
            if (response is not FetchResponse fetch || !IsAnswer(fetch.Data, uids, request)) return false;
            if (_abandoned)
            {
                fetch.Dispose();
                return true;
            }
            try
            {
                await writer.WriteAsync(fetch.Data, cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                fetch.Dispose();
            }
            return true;
        }
    }
}

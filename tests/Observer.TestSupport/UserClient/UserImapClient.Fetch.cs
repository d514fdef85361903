using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using MailKit;
using MailKit.Net.Imap;
using MimeKit;
using Observer.Mail;
using FetchRequest = Observer.Mail.FetchRequest;
using KitFetchRequest = MailKit.FetchRequest;
using KitFlags = MailKit.MessageFlags;

namespace Observer.TestSupport;

/// <summary>UID FETCH of flags, internal dates, sizes, header fields and whole raw messages (BODY.PEEK[]).</summary>
public sealed partial class UserImapClient
{
    /// <summary>Messages read ahead of the consumer.</summary>
    private const int BodiesAhead = 8;

    /// <summary>UID FETCH, collected. For bodies prefer <see cref="UidFetchStreamAsync"/>.</summary>
    public async Task<FetchResult> UidFetchAsync(UidSet uids, FetchRequest request, CancellationToken cancellationToken = default)
    {
        var messages = new List<MessageData>();
        try
        {
            await foreach (var message in UidFetchStreamAsync(uids, request, cancellationToken)) messages.Add(message);
        }
        catch
        {
            foreach (var message in messages) message.Dispose();
            throw;
        }
        return new FetchResult(messages, UidSet.Empty);
    }

    /// <summary>
    /// UID FETCH, each message as it arrives, in UID order. Consume the enumeration before the next
    /// command on this client; leaving it early closes the connection (MailKit gives up the rest of the
    /// answer with it). Each item must be disposed.
    /// </summary>
    /// <remarks>MailKit fetches bodies apart from the other items: those come first, in a command of their own.</remarks>
    public async IAsyncEnumerable<MessageData> UidFetchStreamAsync(UidSet uids, FetchRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var folder = Open();
        var found = await RunAsync("FETCH", () => SummariesAsync(folder, uids, request, cancellationToken));
        if (!request.Items.HasFlag(FetchItems.Body))
        {
            foreach (var message in found.Values) yield return message;
            yield break;
        }
        if (found.Count == 0) yield break;

        var bodies = Channel.CreateBounded<MessageData>(BodiesAhead);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reading = RunAsync("FETCH", () => BodiesAsync(folder, found, bodies.Writer, stop.Token));
        try
        {
            await foreach (var message in bodies.Reader.ReadAllAsync(cancellationToken)) yield return message;
            await reading;
        }
        finally
        {
            if (!reading.IsCompleted)
            {
                await stop.CancelAsync();
                try
                {
                    await reading;
                }
                catch (Exception ex) when (ex is ImapException or OperationCanceledException)
                {
                    // Broken off on purpose.
                }
            }
            while (bodies.Reader.TryRead(out var unread)) unread.Dispose();
        }
    }

    /// <summary>Every item asked for but the body, by UID.</summary>
    private static async Task<SortedDictionary<uint, MessageData>> SummariesAsync(ImapFolder folder, UidSet uids, FetchRequest request, CancellationToken cancellationToken)
    {
        if (request.ChangedSince is not null || request.Vanished || request.Items.HasFlag(FetchItems.ModSeq))
            throw new NotSupportedException("the user client fetches flags, internal dates, sizes, header fields and bodies");
        var items = MessageSummaryItems.UniqueId;
        if (request.Items.HasFlag(FetchItems.Flags)) items |= MessageSummaryItems.Flags;
        if (request.Items.HasFlag(FetchItems.InternalDate)) items |= MessageSummaryItems.InternalDate;
        if (request.Items.HasFlag(FetchItems.Size)) items |= MessageSummaryItems.Size;
        var kit = new KitFetchRequest(items);
        if (request.HeaderFields is { Count: > 0 } fields) kit.Headers = new HeaderSet(fields);
        var found = new SortedDictionary<uint, MessageData>();
        // An unasked-for FETCH (another client's flag change) has no place in the answer.
        foreach (var summary in (await folder.FetchAsync(uids.ToKit(), kit, cancellationToken)).Where(s => uids.Contains(s.UniqueId.Id)))
        {
            found[summary.UniqueId.Id] = new MessageData
            {
                Uid = summary.UniqueId.Id,
                Flags = request.Items.HasFlag(FetchItems.Flags) ? KitConversions.ToFlags(summary.Flags ?? KitFlags.None, summary.Keywords) : null,
                InternalDate = summary.InternalDate,
                Size = summary.Size,
                HeaderFields = kit.Headers is null ? null : HeaderBytes(summary.Headers),
            };
        }
        return found;
    }

    /// <summary>BODY.PEEK[] of the <paramref name="found"/> messages, each handed on with its body.</summary>
    private static async Task BodiesAsync(ImapFolder folder, SortedDictionary<uint, MessageData> found, ChannelWriter<MessageData> bodies, CancellationToken cancellationToken)
    {
        try
        {
            await folder.GetStreamsAsync(UidSet.FromUids(found.Keys).ToKit(), async (_, _, uid, stream, token) =>
            {
                if (!found.TryGetValue(uid.Id, out var message)) return;
                using var copy = new MemoryStream();
                await stream.CopyToAsync(copy, token);
                message.Body = ImapLiteral.FromBytes(copy.ToArray());
                await bodies.WriteAsync(message, token);
            }, cancellationToken);
        }
        finally
        {
            bodies.TryComplete();
        }
    }

    /// <summary>The header fields as the server sent them ("Message-ID: &lt;…&gt;").</summary>
    private static byte[]? HeaderBytes(HeaderList? headers)
    {
        if (headers is null) return null;
        using var bytes = new MemoryStream();
        foreach (var header in headers)
        {
            bytes.Write(Encoding.ASCII.GetBytes(header.Field + ":"));
            bytes.Write(header.RawValue);
        }
        return bytes.ToArray();
    }
}

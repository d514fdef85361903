using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using Observer.Imap;
using Observer.Mail;

namespace Observer.Replication;

/// <summary>
/// The IMAP client's unsolicited responses, read as the engine's <see cref="MailEvent"/>s. Translated as
/// they are read, in the reader's own order, so the sequence map sees every EXPUNGE exactly when it applies.
/// </summary>
internal sealed class ImapEventReader(ChannelReader<UntaggedResponse> responses, Func<SequenceMap?> watched) : ChannelReader<MailEvent>
{
    public override bool TryRead([MaybeNullWhen(false)] out MailEvent item)
    {
        while (responses.TryRead(out var response))
        {
            var translated = Translate(response, watched());
            (response as IDisposable)?.Dispose();
            if (translated is null) continue;
            item = translated;
            return true;
        }
        item = null;
        return false;
    }

    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => responses.WaitToReadAsync(cancellationToken);

    public override Task Completion => responses.Completion;

    private static MailEvent? Translate(UntaggedResponse response, SequenceMap? map) => response switch
    {
        MailboxStatusResponse status => new FolderStatusChanged(status.Mailbox, status.Status.HighestModSeq, status.Status.UidNext),
        ListResponse list => new FolderListChanged(list.Mailbox.OldName, list.Mailbox.Name, list.Mailbox.IsSelectable),
        EventsDroppedResponse => new EventsLost(),
        ExistsResponse exists when map is not null && exists.Count > map.Count => new MessagesArrived(),
        ExpungeResponse expunge when map is not null => new MessagesExpunged(map.Expunge(expunge.Sequence) is { } uid ? new HashSet<uint> { uid } : new HashSet<uint>()),
        VanishedResponse { Earlier: false } vanished when map is not null => Vanished(map, vanished.Uids.Expand().ToHashSet()),
        FetchResponse fetch when map is not null => new MessageFlagsChanged(fetch.Data.Uid ?? map.UidAt(fetch.Sequence), fetch.Data.Flags?.WithoutRecent(), fetch.Data.ModSeq),
        UntaggedConditionResponse { Code: HighestModSeqCode h } when map is not null => new ModSeqChanged(h.HighestModSeq),
        _ => null,
    };

    private static MessagesExpunged Vanished(SequenceMap map, HashSet<uint> uids)
    {
        map.Remove(uids);
        return new MessagesExpunged(uids);
    }
}

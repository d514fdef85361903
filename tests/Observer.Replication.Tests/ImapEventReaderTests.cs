using System.Threading.Channels;
using NUnit.Framework;
using Observer.Imap;
using Observer.Mail;

namespace Observer.Replication.Tests;

/// <summary>
/// Servers without QRESYNC (Courier) name expunged messages by position: the session turns positions
/// into UIDs as the expunges come, each one shifting the positions after it.
/// </summary>
public class ImapEventReaderTests
{
    [Test]
    public void ExpungesByPosition_BecomeUids_EachShiftingTheNext_AndFlagChangesAreNamedByUid()
    {
        var responses = Channel.CreateUnbounded<UntaggedResponse>();
        var map = new SequenceMap();
        map.Reset([10, 11, 12, 13, 14]);
        var reader = new ImapEventReader(responses.Reader, () => map);

        responses.Writer.TryWrite(new ExpungeResponse(2));                                                  // UID 11
        responses.Writer.TryWrite(new ExpungeResponse(2));                                                  // then UID 12
        responses.Writer.TryWrite(new FetchResponse(3, new MessageData { Flags = new MessageFlags([MessageFlags.Seen]) })); // UID 14
        responses.Writer.TryWrite(new ExpungeResponse(9));                                                  // unknown
        responses.Writer.TryWrite(new ExistsResponse(3));                                                   // no growth
        responses.Writer.TryWrite(new ExistsResponse(4));                                                   // growth

        var events = new List<MailEvent>();
        while (reader.TryRead(out var e)) events.Add(e);

        Assert.That(events, Has.Count.EqualTo(5));
        Assert.That(((MessagesExpunged)events[0]).Uids, Is.EquivalentTo(new uint[] { 11 }));
        Assert.That(((MessagesExpunged)events[1]).Uids, Is.EquivalentTo(new uint[] { 12 }));
        Assert.That(((MessageFlagsChanged)events[2]).Uid, Is.EqualTo(14u));
        Assert.That(((MessagesExpunged)events[3]).Uids, Is.Empty, "an unknown position names no UID rather than a wrong one");
        Assert.That(events[4], Is.TypeOf<MessagesArrived>());
        Assert.That(map.Count, Is.EqualTo(3));
    }

    [Test]
    public void WithoutAWatchedFolder_OnlyFolderEventsAreRead()
    {
        var responses = Channel.CreateUnbounded<UntaggedResponse>();
        var reader = new ImapEventReader(responses.Reader, () => null);
        responses.Writer.TryWrite(new ExistsResponse(5));
        responses.Writer.TryWrite(new ExpungeResponse(1));
        responses.Writer.TryWrite(new EventsDroppedResponse(3));

        Assert.That(reader.TryRead(out var e), Is.True);
        Assert.That(e, Is.TypeOf<EventsLost>());
        Assert.That(reader.TryRead(out _), Is.False);
    }
}

using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;

namespace Observer.MailKit.Tests;

/// <summary>
/// STATUS responses that name their mailbox in raw UTF-8, as Dovecot's NOTIFY sends them, read off the
/// protocol tap: the byte forms no real server here sends on demand (quoted, split across reads, broken).
/// </summary>
public class Utf8StatusResponseTests
{
    [Test]
    public void ALiteralName_SplitAcrossReads_IsReadWhole()
    {
        var heard = Feed("* STATUS {5}\r\nCa", "f\u00e9 (MESSAGES 50 UIDNEXT 56 UNSEEN 30 HIGHESTMODSEQ 67)\r\n");
        Assert.That(heard, Is.EqualTo(new[] { new Utf8StatusResponse("Café", 56, 67) }));
    }

    [Test]
    public void AQuotedOrAtomName_IsReadWithItsEscapesUndone()
    {
        var heard = Feed("* STATUS \"Entw\u00fcrfe \\\"alt\\\"\" (UIDNEXT 3)\r\n", "* STATUS \u65c5\u884c (HIGHESTMODSEQ 9)\r\n");
        Assert.That(heard, Is.EqualTo(new[] { new Utf8StatusResponse("Entwürfe \"alt\"", 3, null), new Utf8StatusResponse("旅行", null, 9) }));
    }

    [Test]
    public void NamesMailKitKnows_AndBytesThatAreNotUtf8_AreLeftAlone()
    {
        var heard = Feed("* STATUS Caf&AOk- (UIDNEXT 3)\r\n", "* STATUS {4}\r\nCafe (UIDNEXT 4)\r\n", "* STATUS INBOX (UIDNEXT 5)\r\n");
        var broken = FeedBytes([.. "* STATUS {4}\r\nCaf"u8, 0xE9, .. " (UIDNEXT 6)\r\n"u8]);
        Assert.That(heard.Concat(broken), Is.Empty, "modified UTF-7 and ASCII are MailKit's; Latin-1 is no UTF-8");
    }

    [Test]
    public void ALiteralAnnouncedAcrossTwoReads_IsStillKept()
    {
        var heard = Feed("* STATUS {", "5}\r", "\nCaf\u00e9 (UIDNEXT 8)\r\n");
        Assert.That(heard, Is.EqualTo(new[] { new Utf8StatusResponse("Café", 8, null) }));
    }

    [Test]
    public void ALiteralInAnotherResponse_IsNotKept()
    {
        var heard = Feed("* 1 FETCH (BODY[] {5}\r\nCaf\u00e9 UID 7)\r\n", "* LIST () \".\" {5}\r\nCaf\u00e9\r\n");
        Assert.That(heard, Is.Empty);
    }

    private static List<Utf8StatusResponse> Feed(params string[] reads) => FeedBytes(reads.Select(Encoding.UTF8.GetBytes).ToArray());

    private static List<Utf8StatusResponse> FeedBytes(params byte[][] reads)
    {
        var heard = new List<Utf8StatusResponse>();
        var tap = new ProtocolTraceLogger(NullLogger.Instance, "primary/notify");
        tap.Utf8Status += heard.Add;
        foreach (var read in reads) tap.LogServer(read, 0, read.Length);
        return heard;
    }
}

using System.Text;
using NUnit.Framework;

namespace Observer.Imap.Tests;

public class ResponseFrameReaderTests
{
    [Test]
    public void Read_LineWithCrLf_StripsLineEnd()
    {
        using var frame = Frames.Read("* 3 EXISTS\r\n* 4 EXISTS\r\n");
        Assert.That(Encoding.ASCII.GetString(frame.Text), Is.EqualTo("* 3 EXISTS"));
    }

    [Test]
    public void Read_BareLf_IsTreatedAsLineEnd()
    {
        using var frame = Frames.Read("* 3 EXISTS\n");
        Assert.That(Encoding.ASCII.GetString(frame.Text), Is.EqualTo("* 3 EXISTS"));
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(7)]
    public void Read_LiteralSplitAcrossReads_IsReassembled(int chunk)
    {
        var raw = Encoding.UTF8.GetBytes("* 12 FETCH (UID 5 BODY[] {12}\r\nhello\r\nworld FLAGS (\\Seen))\r\n");
        using var frame = Frames.Read(raw, chunk: chunk);
        Assert.That(Encoding.ASCII.GetString(frame.Text), Is.EqualTo("* 12 FETCH (UID 5 BODY[] {12} FLAGS (\\Seen))"));
        Assert.That(frame.Literals, Has.Length.EqualTo(1));
        Assert.That(Encoding.ASCII.GetString(frame.Literals[0].ToArray()), Is.EqualTo("hello\r\nworld"));
    }

    [Test]
    public void Read_CrLfSplitBetweenReads_IsStillOneLineEnd()
    {
        using var frame = Frames.Read(Encoding.ASCII.GetBytes("* OK hi\r\n"), chunk: 8);
        Assert.That(Encoding.ASCII.GetString(frame.Text), Is.EqualTo("* OK hi"));
    }

    [Test]
    public void Read_SeveralLiterals_KeepsEachWithItsMarker()
    {
        using var frame = Frames.Read("* LIST () {1}\r\n/ {3}\r\nabc\r\n");
        Assert.That(frame.Literals.Select(l => Encoding.ASCII.GetString(l.ToArray())), Is.EqualTo(new[] { "/", "abc" }));
        Assert.That(frame.LiteralMarkerEnds, Is.EqualTo(new[] { "* LIST () {1}".Length, "* LIST () {1} {3}".Length }));
    }

    [Test]
    public void Read_LiteralAboveThreshold_IsSpooledNotBuffered()
    {
        var spool = new CountingSpool();
        var limits = ImapLimits.Default with { InMemoryLiteralThreshold = 16 };
        var body = new string('x', 1000);
        using var frame = Frames.Read(Encoding.ASCII.GetBytes($"* 1 FETCH (BODY[] {{1000}}\r\n{body})\r\n"), limits, spool, chunk: 100);
        Assert.That(spool.Created, Is.EqualTo(1));
        Assert.That(frame.Literals[0].TryGetMemory(out _), Is.False);
        Assert.That(Encoding.ASCII.GetString(frame.Literals[0].ToArray()), Is.EqualTo(body));
    }

    [Test]
    public void Spool_FilesAreOwnerOnlyAndAlreadyUnlinked()
    {
        using var writer = new TempFileLiteralSpool().Create(3);
        var spooled = Directory.GetFiles("/proc/self/fd")
            .Select(fd => (Fd: fd, Target: new FileInfo(fd).LinkTarget))
            .Where(f => f.Target?.Contains("observer-literal-") == true)
            .ToList();
        Assert.That(spooled, Is.Not.Empty);
        foreach (var (fd, target) in spooled)
        {
            Assert.That(target, Does.EndWith("(deleted)"), "unlinked at once, so nothing is left behind after a crash");
            Assert.That(File.GetUnixFileMode(fd) & (UnixFileMode)0b111_111_111, Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        }
    }

    [Test]
    public void Read_LineLongerThanLimit_ThrowsProtocolException()
    {
        var limits = ImapLimits.Default with { MaxResponseTextLength = 100 };
        Assert.Throws<ImapProtocolException>(() => Frames.Read("* SEARCH " + string.Join(' ', Enumerable.Range(1, 100)) + "\r\n", limits));
    }

    [Test]
    public void Read_AbsurdLiteralSize_ThrowsBeforeReadingIt()
    {
        var ex = Assert.Throws<ImapProtocolException>(() => Frames.Read("* 1 FETCH (BODY[] {99999999999999}\r\n"));
        Assert.That(ex!.Message, Does.Contain("above the limit"));
    }

    [Test]
    public void Read_LiteralSizeWithTooManyDigits_ThrowsProtocolException()
    {
        Assert.Throws<ImapProtocolException>(() => Frames.Read("* 1 FETCH (BODY[] {9999999999999999999999999}\r\n"));
    }

    [Test]
    public void Read_TooManyLiterals_ThrowsProtocolException()
    {
        var limits = ImapLimits.Default with { MaxLiteralsPerResponse = 3 };
        var raw = string.Concat(Enumerable.Repeat("{1}\r\nx ", 5)) + "\r\n";
        Assert.Throws<ImapProtocolException>(() => Frames.Read("* X " + raw, limits));
    }

    [Test]
    public void Read_StatusLineEndingInBraces_IsNotALiteral()
    {
        using var frame = Frames.Read("A1 OK done {5}\r\n* 1 EXISTS\r\n");
        Assert.That(frame.Literals, Is.Empty);
        Assert.That(Encoding.ASCII.GetString(frame.Text), Is.EqualTo("A1 OK done {5}"));
    }

    [Test]
    public void Read_StreamEndsInsideLiteral_ThrowsConnectionException()
    {
        Assert.Throws<ImapConnectionException>(() => Frames.Read("* 1 FETCH (BODY[] {100}\r\nonly a little"));
    }

    [Test]
    public void Read_LiteralPlusMarkerFromServer_IsAccepted()
    {
        using var frame = Frames.Read("* 1 FETCH (BODY[] {2+}\r\nhi)\r\n");
        Assert.That(frame.Literals[0].Length, Is.EqualTo(2));
    }

    private sealed class CountingSpool : ILiteralSpool
    {
        public int Created { get; private set; }

        public ISpoolWriter Create(long length)
        {
            Created++;
            return TempFileLiteralSpool.Default.Create(length);
        }
    }
}

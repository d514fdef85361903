using NUnit.Framework;

namespace Observer.Imap.Tests;

public class ImapDateTests
{
    [Test]
    public void Format_IsTheImapForm()
    {
        Assert.That(ImapDate.Format(new DateTimeOffset(1996, 7, 17, 2, 44, 25, TimeSpan.FromHours(-7))), Is.EqualTo("17-Jul-1996 02:44:25 -0700"));
        Assert.That(ImapDate.Format(new DateTimeOffset(2020, 1, 5, 23, 0, 1, TimeSpan.FromMinutes(330))), Is.EqualTo("05-Jan-2020 23:00:01 +0530"));
    }

    [TestCase(" 7-Jul-2020 10:00:00 +0000")]
    [TestCase("7-Jul-2020 10:00:00 +0000")]
    [TestCase("07-jul-2020 10:00:00 +0000")]
    public void TryParse_AcceptsSpacePaddedAndShortDays(string text)
    {
        Assert.That(ImapDate.TryParse(text, out var date), Is.True);
        Assert.That(date, Is.EqualTo(new DateTimeOffset(2020, 7, 7, 10, 0, 0, TimeSpan.Zero)));
    }

    [TestCase("31-Feb-2020 10:00:00 +0000")]
    [TestCase("01-Foo-2020 10:00:00 +0000")]
    [TestCase("01-Jan-2020 25:00:00 +0000")]
    [TestCase("01-Jan-2020 10:00:00 +9900")]
    [TestCase("01-Jan-2020")]
    public void TryParse_RejectsInvalid(string text)
    {
        Assert.That(ImapDate.TryParse(text, out _), Is.False);
    }

    [Test]
    public void RoundTrip_KeepsTheInstantAndOffset()
    {
        var value = new DateTimeOffset(2011, 11, 11, 11, 11, 11, TimeSpan.FromHours(2));
        Assert.That(ImapDate.TryParse(ImapDate.Format(value), out var back), Is.True);
        Assert.That((back, back.Offset), Is.EqualTo((value, value.Offset)));
    }
}

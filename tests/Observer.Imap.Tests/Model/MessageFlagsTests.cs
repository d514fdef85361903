using NUnit.Framework;

namespace Observer.Imap.Tests;

public class MessageFlagsTests
{
    [Test]
    public void Equality_IgnoresCaseAndOrder()
    {
        Assert.That(new MessageFlags(["\\SEEN", "Work"]), Is.EqualTo(new MessageFlags(["work", "\\Seen"])));
    }

    [Test]
    public void SystemFlags_AreCanonicalised()
    {
        Assert.That(new MessageFlags(["\\flagged"]).ToImapList(), Is.EqualTo("(\\Flagged)"));
    }

    [Test]
    public void WithoutRecent_DropsRecentOnly()
    {
        Assert.That(new MessageFlags(["\\Recent", "\\Seen"]).WithoutRecent(), Is.EqualTo(new MessageFlags(["\\Seen"])));
    }

    [Test]
    public void ParseOfToString_RoundTrips()
    {
        var flags = new MessageFlags(["\\Answered", "$Forwarded", "kw1"]);
        Assert.That(MessageFlags.Parse(flags.ToString()), Is.EqualTo(flags));
        Assert.That(MessageFlags.Parse(""), Is.EqualTo(MessageFlags.None));
    }
}

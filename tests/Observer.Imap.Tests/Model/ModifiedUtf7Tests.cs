using NUnit.Framework;

namespace Observer.Imap.Tests;

public class ModifiedUtf7Tests
{
    [TestCase("~peter/mail/\u53f0\u5317/\u65e5\u672c\u8a9e", "~peter/mail/&U,BTFw-/&ZeVnLIqe-")]
    [TestCase("Caf\u00e9", "Caf&AOk-")]
    [TestCase("a&b", "a&-b")]
    [TestCase("INBOX", "INBOX")]
    [TestCase("\U0001F4E7 mail", "&2D3c5w- mail")]
    public void RoundTrips(string name, string encoded)
    {
        Assert.That(ModifiedUtf7.Encode(name), Is.EqualTo(encoded));
        Assert.That(ModifiedUtf7.Decode(encoded), Is.EqualTo(name));
    }

    [TestCase("&")]
    [TestCase("&Jjo")]
    [TestCase("&!!-")]
    [TestCase("&AOk")]
    public void TryDecode_RejectsMalformed(string encoded)
    {
        Assert.That(ModifiedUtf7.TryDecode(encoded, out _), Is.False);
    }

    [Test]
    public void Encode_TabIsEncoded()
    {
        Assert.That(ModifiedUtf7.Decode(ModifiedUtf7.Encode("a\tb")), Is.EqualTo("a\tb"));
        Assert.That(ModifiedUtf7.Encode("a\tb"), Does.Not.Contain("\t"));
    }
}

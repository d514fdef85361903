using System.Text;
using NUnit.Framework;

namespace Observer.Imap.Tests;

public class ImapCommandTests
{
    private static string Wire(ImapCommand command) =>
        string.Concat(command.Parts.Select(p => p is string s ? s : "{" + ((LiteralPart)p).Content.Length + "}" + Encoding.UTF8.GetString(((LiteralPart)p).Content.ToArray())));

    [TestCase("INBOX", "INBOX")]
    [TestCase("with space", "\"with space\"")]
    [TestCase("", "\"\"")]
    [TestCase("nil", "\"nil\"")]
    [TestCase("quote\"and\\back", "\"quote\\\"and\\\\back\"")]
    [TestCase("star*", "\"star*\"")]
    [TestCase("line\r\nbreak", "{11}line\r\nbreak")]
    public void String_PicksAtomQuotedOrLiteral(string value, string expected)
    {
        Assert.That(Wire(new ImapCommand("X").Sp().String(value)), Is.EqualTo("X " + expected));
    }

    [Test]
    public void String_8Bit_IsLiteralUnlessUtf8Enabled()
    {
        Assert.That(Wire(new ImapCommand("X").Sp().String("caf\u00e9")), Is.EqualTo("X {5}caf\u00e9"));
        Assert.That(Wire(new ImapCommand("X", utf8Enabled: true).Sp().String("caf\u00e9")), Is.EqualTo("X \"caf\u00e9\""));
    }

    [Test]
    public void Mailbox_IsModifiedUtf7Encoded()
    {
        Assert.That(Wire(new ImapCommand("SELECT").Sp().Mailbox("Caf\u00e9")), Is.EqualTo("SELECT Caf&AOk-"));
        Assert.That(Wire(new ImapCommand("SELECT", utf8Enabled: true).Sp().Mailbox("Caf\u00e9")), Is.EqualTo("SELECT \"Caf\u00e9\""));
        Assert.That(Wire(new ImapCommand("SELECT").Sp().Mailbox("inbox")), Is.EqualTo("SELECT INBOX"));
    }

    [Test]
    public void SensitiveArguments_NeverReachTheTrace()
    {
        var command = new ImapCommand("LOGIN").Sp().String("alice").Sp().String("hunter2 \"x", sensitive: true);
        Assert.That(command.TraceText, Is.EqualTo("LOGIN alice <redacted>"));
        Assert.That(Wire(command), Does.Contain("hunter2"));
        var secret = new ImapCommand("AUTHENTICATE").Sp().Text("PLAIN").Sp().Secret("AGFsaWNlAGh1bnRlcjI=");
        Assert.That(secret.TraceText, Does.Not.Contain("AGFsaWNl"));
    }

    [Test]
    public void Literal_TraceShowsOnlyItsSize()
    {
        var command = new ImapCommand("APPEND").Sp().Mailbox("INBOX").Sp().Literal(ImapLiteral.FromString("secret body"));
        Assert.That(command.TraceText, Is.EqualTo("APPEND INBOX {11}<11 bytes>"));
    }
}

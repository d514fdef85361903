using System.Text;
using NUnit.Framework;

namespace Observer.Replication.Tests;

public class MessageIdHeaderTests
{
    private static string? Parse(string text) => MessageIdHeader.Parse(Encoding.UTF8.GetBytes(text));

    [TestCase("From: a@b\r\nMessage-ID: <x@y>\r\n\r\nbody", "<x@y>")]
    [TestCase("message-id:<x@y>\r\n\r\n", "<x@y>")]
    [TestCase("MESSAGE-ID :  <x@y>  \n\nbody", "<x@y>")]
    [TestCase("Subject: s\r\nMessage-ID:\r\n <folded@y>\r\n\r\n", "<folded@y>")]
    [TestCase("Subject: s\r\nMessage-ID: <a@\r\n\tb>\r\nTo: t\r\n\r\n", "<a@\tb>")]
    [TestCase("Message-ID: <only-a-header@y>", "<only-a-header@y>")]
    [TestCase("Received: from a\r\n\tby b\r\nMessage-Id: <\u00e9t\u00e9@y>\r\n\r\n", "<\u00e9t\u00e9@y>")]
    [TestCase("Message-ID: =?utf-8?q?=3Cenc=40y=3E?=\r\n\r\n", "=?utf-8?q?=3Cenc=40y=3E?=")]
    public void FindsTheMessageId(string message, string expected) => Assert.That(Parse(message), Is.EqualTo(expected));

    [TestCase("From: a@b\r\n\r\nMessage-ID: <in-the-body@y>\r\n")]
    [TestCase("X-Message-ID: <x@y>\r\nResent-Message-ID: <r@y>\r\n\r\n")]
    [TestCase("Message-ID:   \r\n\r\n")]
    [TestCase("")]
    public void NoMessageIdInTheHeader_IsNull(string message) => Assert.That(Parse(message), Is.Null);

    [Test]
    public void AWholeMessage_InMemoryOrInAFile_GivesItsMessageId()
    {
        var message = Encoding.UTF8.GetBytes("Subject: s\r\nMessage-ID: <whole@y>\r\n\r\n" + new string('x', 200_000) + "\r\nMessage-ID: <body@y>\r\n");
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, message);
            Assert.That(MessageIdHeader.FromMessage(Observer.Mail.ImapLiteral.FromBytes(message)), Is.EqualTo("<whole@y>"));
            Assert.That(MessageIdHeader.FromMessage(Observer.Mail.ImapLiteral.FromFile(path)), Is.EqualTo("<whole@y>"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}

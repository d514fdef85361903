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
    public void FindsTheMessageId(string message, string expected) => Assert.That(Parse(message), Is.EqualTo(expected));

    [TestCase("From: a@b\r\n\r\nMessage-ID: <in-the-body@y>\r\n")]
    [TestCase("X-Message-ID: <x@y>\r\nResent-Message-ID: <r@y>\r\n\r\n")]
    [TestCase("Message-ID:   \r\n\r\n")]
    [TestCase("")]
    public void NoMessageIdInTheHeader_IsNull(string message) => Assert.That(Parse(message), Is.Null);
}

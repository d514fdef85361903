using System.Security.Cryptography;
using System.Text;
using NUnit.Framework;

namespace Observer.Replication.Tests;

/// <summary>The forms a replica server may store a message in are accepted; any other change is not.</summary>
public class StoredFormsTests
{
    private static byte[] B(string text) => Encoding.Latin1.GetBytes(text);

    [TestCase("H: v\nX: y\n\nbody\n", "H: v\r\nX: y\r\n\r\nbody\r\n", "line endings", TestName = "Courier: bare LF becomes CRLF")]
    [TestCase("H: v\r\n\r\nno final line end", "H: v\r\n\r\nno final line end\r\n", "line endings", TestName = "Courier: a final CRLF is added")]
    [TestCase("H: v\r\n\r\nab\r\u0080cd\r\n", "H: v\r\n\r\nab\u0080cd\r\n", "line endings", TestName = "Courier with UTF8=ACCEPT: a bare CR is dropped")]
    [TestCase("H: v\r\n\r\nab\rcd\r\n", "H: v\r\n\r\nab\r\ncd\r\n", "line endings", TestName = "Courier: a bare CR becomes CRLF")]
    [TestCase("H: v\r\n\r\nab\u0000cd\r\n", "H: v\r\n\r\nab\u0080cd\r\n", "NUL bytes", TestName = "Dovecot: NUL is stored as 0x80")]
    [TestCase("H: v\r\n\r\nab\u0000cd\nx", "H: v\r\n\r\nabcd\r\nx\r\n", "line endings, NUL bytes", TestName = "Cyrus: sent with CRLF and without NUL")]
    [TestCase("Subject: Gr\u00fc\u00dfe\r\n\r\nSch\u00f6n\r\n", "Subject: GrXXe\r\n\r\nSch\u00f6n\r\n", "8-bit header bytes", TestName = "Cyrus: 8-bit header bytes become X, the body is kept")]
    public void KnownForm_IsRecognised(string sent, string stored, string form)
    {
        Assert.That(StoredForms.Which(B(sent), MD5.HashData(B(stored))), Is.EqualTo(form));
    }

    [TestCase("H: v\r\n\r\nbody\r\n", "H: v\r\n\r\nbodx\r\n", TestName = "A changed byte is damage")]
    [TestCase("H: v\r\n\r\nbody line\r\n", "H: v\r\n\r\nbody\r\n", TestName = "A truncated copy is damage")]
    [TestCase("Subject: Gr\u00fc\u00dfe\r\n\r\nSch\u00f6n\r\n", "Subject: Gr\u00fc\u00dfe\r\n\r\nSchXn\r\n", TestName = "8-bit bytes in the body are not Cyrus's to change")]
    public void AnyOtherChange_IsNotAStoredForm(string sent, string stored)
    {
        Assert.That(StoredForms.Which(B(sent), MD5.HashData(B(stored))), Is.Null);
    }
}

using Observer.Mail;

namespace Observer.MailKit;

/// <summary>
/// A fetched body of which only the length and MD5 were kept (<see cref="SpoolingFolder.DigestsOnly"/>). It never
/// leaves the session: <see cref="MailKitMailSession.FetchDigestsAsync"/> turns it into a <see cref="MessageDigest"/>.
/// </summary>
internal sealed class DigestedLiteral(long length, byte[] md5) : ImapLiteral
{
    public override long Length => length;

    public override byte[]? KnownMd5 => md5;

    public override Stream OpenRead() => throw new InvalidOperationException("only the MD5 of this body was kept");
}

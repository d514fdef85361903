namespace Observer.Mail;

/// <summary>A literal read from a file as it is sent, so large messages never sit in memory.</summary>
internal sealed class FileLiteral(string path) : ImapLiteral
{
    private readonly long _length = new FileInfo(path).Length;

    public override long Length => _length;

    public override Stream OpenRead() => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
}

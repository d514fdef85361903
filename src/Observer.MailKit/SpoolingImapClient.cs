using MailKit;
using MailKit.Net.Imap;
using Observer.Imap;
using ImapClient = MailKit.Net.Imap.ImapClient;

namespace Observer.MailKit;

/// <summary>
/// A MailKit client whose folders keep fetched message data above <paramref name="threshold"/> bytes
/// in a temporary file instead of memory: MailKit's default holds a 100 MB message (about three times
/// over) in RAM, and Observer may copy several at once. The file is unlinked as soon as it is open, so
/// nothing is left behind even if the process is killed, and only its owner can read it.
/// </summary>
public sealed class SpoolingImapClient(IProtocolLogger protocolLogger, string spoolDirectory, int threshold = SpoolingImapClient.DefaultThreshold)
    : ImapClient(protocolLogger)
{
    public const int DefaultThreshold = 1024 * 1024;

    protected override ImapFolder CreateImapFolder(ImapFolderConstructorArgs args) => new SpoolingFolder(args, spoolDirectory, threshold);

    private sealed class SpoolingFolder(ImapFolderConstructorArgs args, string directory, int threshold) : ImapFolder(args)
    {
        protected override Stream CreateStream(UniqueId? uid, string section, int offset, int length) =>
            length > threshold ? TempFileLiteralSpool.CreateUnlinkedFile(directory, "observer-fetch") : base.CreateStream(uid, section, offset, length);
    }
}

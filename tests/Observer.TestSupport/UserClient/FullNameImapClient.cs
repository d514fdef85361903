using MailKit;
using MailKit.Net.Imap;

namespace Observer.TestSupport;

/// <summary>MailKit's client, whose folders can be created and renamed by full name (see <see cref="FullNameFolder"/>).</summary>
internal sealed class FullNameImapClient(IProtocolLogger protocolLogger) : ImapClient(protocolLogger)
{
    protected override ImapFolder CreateImapFolder(ImapFolderConstructorArgs args) => new FullNameFolder(args);
}

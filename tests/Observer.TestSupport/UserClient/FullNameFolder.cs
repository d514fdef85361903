using MailKit;
using MailKit.Net.Imap;

namespace Observer.TestSupport;

/// <summary>
/// MailKit's folder, created and renamed by full name in one command, as a user's mail program does.
/// MailKit builds a new name from a parent and refuses one with the delimiter in it; for one command
/// the delimiter is a character no name has, so the full name goes out whole and the server makes any
/// missing parents itself. (The same trick as Observer's own SpoolingFolder, kept apart so that the
/// tests' client is not the code under test.)
/// </summary>
/// <remarks>Leans on MailKit 4.18.2 using <see cref="MailFolder.DirectorySeparator"/> only to build and check the name.</remarks>
internal sealed class FullNameFolder(ImapFolderConstructorArgs args) : ImapFolder(args)
{
    /// <summary>A Unicode noncharacter: never part of a real folder name.</summary>
    private const char NoDelimiter = '\uFFFF';

    /// <summary>CREATE of <paramref name="fullName"/>, from the root folder (the one whose full name is "").</summary>
    public async Task CreateByFullNameAsync(string fullName, CancellationToken cancellationToken)
    {
        var delimiter = DirectorySeparator;
        DirectorySeparator = NoDelimiter;
        try
        {
            await CreateAsync(fullName, isMessageFolder: true, cancellationToken);
        }
        finally
        {
            DirectorySeparator = delimiter;
        }
    }

    /// <summary>RENAME of this folder to <paramref name="newFullName"/>, under <paramref name="root"/> (full name "").</summary>
    public async Task RenameToFullNameAsync(IMailFolder root, string newFullName, CancellationToken cancellationToken)
    {
        var delimiter = DirectorySeparator;
        DirectorySeparator = NoDelimiter;
        try
        {
            await RenameAsync(root, newFullName, cancellationToken);
        }
        finally
        {
            DirectorySeparator = delimiter;
        }
    }
}

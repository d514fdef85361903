using MailKit;
using MailKit.Net.Imap;
using Observer.Mail;
using KitStatus = MailKit.StatusItems;
using StatusItems = Observer.Mail.StatusItems;

namespace Observer.TestSupport;

/// <summary>The folder tree: names, LIST, STATUS, CREATE, RENAME, DELETE and subscriptions.</summary>
public sealed partial class UserImapClient
{
    private static readonly (FolderAttributes Flag, string Name)[] Attributes =
    [
        (FolderAttributes.NoSelect, "\\Noselect"), (FolderAttributes.NonExistent, "\\NonExistent"),
        (FolderAttributes.HasChildren, "\\HasChildren"), (FolderAttributes.HasNoChildren, "\\HasNoChildren"),
        (FolderAttributes.All, "\\All"), (FolderAttributes.Archive, "\\Archive"), (FolderAttributes.Drafts, "\\Drafts"),
        (FolderAttributes.Flagged, "\\Flagged"), (FolderAttributes.Junk, "\\Junk"), (FolderAttributes.Sent, "\\Sent"),
        (FolderAttributes.Trash, "\\Trash"), (FolderAttributes.Important, "\\Important"),
    ];

    private FullNameFolder? _root;

    /// <summary>The personal namespace's prefix with its delimiter ("INBOX." on Cyrus and Courier), or "".</summary>
    public string PersonalPrefix => _client.PersonalNamespaces.FirstOrDefault() is { Path.Length: > 0 } personal
        // MailKit trims the delimiter from the prefix ("INBOX." becomes "INBOX").
        ? personal.Path + personal.DirectorySeparator
        : "";

    /// <summary>The personal namespace's hierarchy delimiter, when the server named one.</summary>
    public char? PersonalDelimiter => _client.PersonalNamespaces.FirstOrDefault() is { DirectorySeparator: not '\0' } personal ? personal.DirectorySeparator : null;

    /// <summary>The hierarchy delimiter, as LIST "" "" gives it; null when the server has none.</summary>
    public Task<char?> GetDelimiterAsync(CancellationToken cancellationToken = default) =>
        RunAsync("LIST", async () => (await RootAsync(cancellationToken)).DirectorySeparator is var d and not '\0' ? d : (char?)null);

    /// <summary>Every folder that exists, with \Subscribed on those subscribed.</summary>
    public Task<IReadOnlyList<MailboxListEntry>> ListAsync(CancellationToken cancellationToken = default) =>
        RunAsync("LIST", async () =>
        {
            var all = new FolderNamespace((await RootAsync(cancellationToken)).DirectorySeparator, "");
            var folders = await _client.GetFoldersAsync(all, KitStatus.None, subscribedOnly: false, cancellationToken);
            // Without LIST-EXTENDED MailKit's \Subscribed never clears: LSUB's answer is the truth.
            HashSet<string>? subscribed = null;
            if (!Capabilities.HasFlag(ImapCapabilities.ListExtended))
                subscribed = (await _client.GetFoldersAsync(all, KitStatus.None, subscribedOnly: true, cancellationToken)).Select(f => f.FullName).ToHashSet(StringComparer.Ordinal);
            return (IReadOnlyList<MailboxListEntry>)folders.Where(f => f.Exists && f.FullName.Length > 0).Select(f => Entry(f, subscribed?.Contains(f.FullName))).ToList();
        });

    /// <summary>STATUS; the items not asked for, or not offered by the server, are null.</summary>
    public Task<MailboxStatus> StatusAsync(string mailbox, StatusItems items, CancellationToken cancellationToken = default) =>
        RunAsync("STATUS", async () =>
        {
            var folder = await FolderAsync(mailbox, cancellationToken);
            await folder.StatusAsync(ToKit(items), cancellationToken);
            var modSeq = items.HasFlag(StatusItems.HighestModSeq) && Capabilities.HasFlag(ImapCapabilities.CondStore);
            return new MailboxStatus
            {
                Messages = items.HasFlag(StatusItems.Messages) ? (uint)folder.Count : null,
                Recent = items.HasFlag(StatusItems.Recent) ? (uint)folder.Recent : null,
                UidNext = items.HasFlag(StatusItems.UidNext) ? folder.UidNext?.Id : null,
                UidValidity = items.HasFlag(StatusItems.UidValidity) ? folder.UidValidity : null,
                Unseen = items.HasFlag(StatusItems.Unseen) ? (uint)folder.Unread : null,
                HighestModSeq = modSeq ? folder.HighestModSeq : null,
                Size = items.HasFlag(StatusItems.Size) ? folder.Size : null,
            };
        });

    /// <summary>CREATE of a full name; the server makes missing parents. A folder that already exists is a refusal.</summary>
    public Task CreateAsync(string mailbox, CancellationToken cancellationToken = default) =>
        RunAsync("CREATE", async () =>
        {
            var refusals = _tap.Refusals;
            await (await RootAsync(cancellationToken)).CreateByFullNameAsync(mailbox, cancellationToken);
            // MailKit takes NO [ALREADYEXISTS] for success; a user's mail program says the folder is there.
            if (_tap.Refusals != refusals) throw UserClientFailures.Refusal("CREATE", ResponseCondition.No, _tap.LastRefusal, "folder already exists");
        });

    public Task DeleteAsync(string mailbox, CancellationToken cancellationToken = default) =>
        RunAsync("DELETE", async () => await (await FolderAsync(mailbox, cancellationToken)).DeleteAsync(cancellationToken));

    /// <summary>RENAME to a full name, anywhere in the tree.</summary>
    public Task RenameAsync(string mailbox, string newName, CancellationToken cancellationToken = default) =>
        RunAsync("RENAME", async () =>
        {
            var folder = await FolderAsync(mailbox, cancellationToken);
            await folder.RenameToFullNameAsync(await RootAsync(cancellationToken), newName, cancellationToken);
        });

    public Task SubscribeAsync(string mailbox, CancellationToken cancellationToken = default) =>
        RunAsync("SUBSCRIBE", async () => await (await FolderAsync(mailbox, cancellationToken)).SubscribeAsync(cancellationToken));

    public Task UnsubscribeAsync(string mailbox, CancellationToken cancellationToken = default) =>
        RunAsync("UNSUBSCRIBE", async () => await (await FolderAsync(mailbox, cancellationToken)).UnsubscribeAsync(cancellationToken));

    /// <summary>
    /// MailKit's folder for a full name: its cached object, or one LIST for it. A cached object may be stale
    /// (another client renamed or deleted the folder), but the name it sends is the one asked for.
    /// </summary>
    private async Task<FullNameFolder> FolderAsync(string name, CancellationToken cancellationToken) =>
        (FullNameFolder)await _client.GetFolderAsync(name, cancellationToken);

    /// <summary>The root of the folder tree (full name ""), which creates and renames go through.</summary>
    private async Task<FullNameFolder> RootAsync(CancellationToken cancellationToken)
    {
        if (_root is not null) return _root;
        try
        {
            _root = (FullNameFolder)_client.GetFolder(new FolderNamespace(PersonalDelimiter ?? '/', ""));
        }
        catch (FolderNotFoundException)
        {
            // Not cached at login on every server (Courier): one LIST "" "" finds it.
            _root = (FullNameFolder)await _client.GetFolderAsync("", cancellationToken);
        }
        return _root;
    }

    private static MailboxListEntry Entry(IMailFolder folder, bool? subscribed)
    {
        var attributes = Attributes.Where(a => folder.Attributes.HasFlag(a.Flag)).Select(a => a.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (subscribed ?? folder.Attributes.HasFlag(FolderAttributes.Subscribed)) attributes.Add("\\Subscribed");
        return new MailboxListEntry(folder.FullName, folder.DirectorySeparator == '\0' ? null : folder.DirectorySeparator, attributes);
    }

    private static KitStatus ToKit(StatusItems items)
    {
        var kit = KitStatus.None;
        if (items.HasFlag(StatusItems.Messages)) kit |= KitStatus.Count;
        if (items.HasFlag(StatusItems.Recent)) kit |= KitStatus.Recent;
        if (items.HasFlag(StatusItems.UidNext)) kit |= KitStatus.UidNext;
        if (items.HasFlag(StatusItems.UidValidity)) kit |= KitStatus.UidValidity;
        if (items.HasFlag(StatusItems.Unseen)) kit |= KitStatus.Unread;
        if (items.HasFlag(StatusItems.HighestModSeq)) kit |= KitStatus.HighestModSeq;
        if (items.HasFlag(StatusItems.Size)) kit |= KitStatus.Size;
        return kit;
    }
}

using System.Threading.Channels;

namespace Observer.Imap;

/// <summary>
/// An IMAP4rev1 client session: async only, every call cancellable. Untagged data that no command
/// claims arrives on <see cref="Events"/>. After any network or protocol failure the client is
/// broken for good (<see cref="IsConnected"/> is false) and a new one must be connected.
/// </summary>
public sealed class ImapClient : IAsyncDisposable
{
    private readonly ImapConnection _connection;
    private readonly HashSet<string> _enabled = new(StringComparer.OrdinalIgnoreCase);

    private ImapClient(ImapConnection connection) => _connection = connection;

    public static async Task<ImapClient> ConnectAsync(ImapClientOptions options, CancellationToken cancellationToken = default)
    {
        var connection = await ImapConnection.OpenAsync(options, cancellationToken).ConfigureAwait(false);
        var client = new ImapClient(connection) { IsAuthenticated = connection.GreetingCondition == ResponseCondition.PreAuth };
        if (connection.Capabilities.IsEmpty) await client.RefreshCapabilitiesAsync(cancellationToken).ConfigureAwait(false);
        return client;
    }

    public ImapClientOptions Options => _connection.Options;

    public ImapCapabilities Capabilities => _connection.Capabilities;

    /// <summary>Untagged data no command claimed: EXISTS, EXPUNGE, VANISHED, FETCH, STATUS, LIST, BYE, ALERT and the rest.</summary>
    public ChannelReader<UntaggedResponse> Events => _connection.Events;

    public bool IsConnected => !_connection.IsBroken;

    /// <summary>Why the connection broke, once it has.</summary>
    public Exception? BreakReason => _connection.BreakReason;

    public bool IsAuthenticated { get; internal set; }

    /// <summary>The personal namespace's hierarchy delimiter, learned by <see cref="GetDelimiterAsync"/>.</summary>
    public char? HierarchyDelimiter { get; internal set; }

    public SelectedMailbox? Selected { get; internal set; }

    /// <summary>True once ENABLE UTF8=ACCEPT succeeded: names travel as UTF-8, not modified UTF-7.</summary>
    public bool Utf8Enabled => _connection.Utf8Enabled;

    public bool IsEnabled(string capability) => _enabled.Contains(capability);

    internal ImapConnection Connection => _connection;

    internal ImapCommand Command(string verb) => new(verb, _connection.Utf8Enabled);

    internal Task<TaggedResponse> ExecuteAsync(ImapCommand command, IUntaggedHandler? handler, CancellationToken cancellationToken) =>
        _connection.ExecuteAsync(command, handler, cancellationToken);

    internal async Task<TaggedResponse> ExecuteOkAsync(ImapCommand command, IUntaggedHandler? handler, CancellationToken cancellationToken) =>
        (await _connection.ExecuteAsync(command, handler, cancellationToken).ConfigureAwait(false)).EnsureOk(command.Verb);

    internal void MarkEnabled(IEnumerable<string> capabilities)
    {
        foreach (var capability in capabilities)
        {
            _enabled.Add(capability);
            if (capability.Equals("UTF8=ACCEPT", StringComparison.OrdinalIgnoreCase)) _connection.Utf8Enabled = true;
        }
    }

    public async Task RefreshCapabilitiesAsync(CancellationToken cancellationToken = default) =>
        await ExecuteOkAsync(Command("CAPABILITY"), null, cancellationToken).ConfigureAwait(false);

    public Task NoopAsync(CancellationToken cancellationToken = default) =>
        ExecuteOkAsync(Command("NOOP"), null, cancellationToken);

    // Login and session

    public Task LoginAsync(string username, string password, CancellationToken cancellationToken = default) =>
        Authenticator.LoginAsync(this, username, password, cancellationToken);

    public Task AuthenticateAsync(SaslMechanism mechanism, CancellationToken cancellationToken = default) =>
        Authenticator.AuthenticateAsync(this, mechanism, cancellationToken);

    /// <summary>ENABLE those of <paramref name="capabilities"/> the server offers; returns what it enabled.</summary>
    public Task<IReadOnlySet<string>> EnableAsync(IEnumerable<string> capabilities, CancellationToken cancellationToken = default) =>
        SessionCommands.EnableAsync(this, capabilities, cancellationToken);

    public Task LogoutAsync(CancellationToken cancellationToken = default) =>
        SessionCommands.LogoutAsync(this, cancellationToken);

    // Mailboxes

    public Task<char?> GetDelimiterAsync(CancellationToken cancellationToken = default) =>
        MailboxCommands.GetDelimiterAsync(this, cancellationToken);

    /// <summary>The personal namespace (RFC 2342): its prefix and delimiter; null without NAMESPACE.</summary>
    public Task<NamespaceResponse?> GetPersonalNamespaceAsync(CancellationToken cancellationToken = default) =>
        MailboxCommands.GetPersonalNamespaceAsync(this, cancellationToken);

    /// <summary>LIST, with RETURN (SUBSCRIBED SPECIAL-USE) where LIST-EXTENDED is offered.</summary>
    public Task<IReadOnlyList<MailboxListEntry>> ListAsync(string reference = "", string pattern = "*", CancellationToken cancellationToken = default) =>
        MailboxCommands.ListAsync(this, reference, pattern, cancellationToken);

    /// <summary>LIST with RETURN (STATUS ...) where LIST-STATUS is offered, else LIST then one STATUS per mailbox.</summary>
    public Task<IReadOnlyList<MailboxWithStatus>> ListWithStatusAsync(StatusItems items, string pattern = "*", CancellationToken cancellationToken = default) =>
        MailboxCommands.ListWithStatusAsync(this, items, pattern, cancellationToken);

    public Task<IReadOnlyList<MailboxListEntry>> ListSubscribedAsync(string pattern = "*", CancellationToken cancellationToken = default) =>
        MailboxCommands.LsubAsync(this, pattern, cancellationToken);

    public Task<MailboxStatus> StatusAsync(string mailbox, StatusItems items, CancellationToken cancellationToken = default) =>
        MailboxCommands.StatusAsync(this, mailbox, items, cancellationToken);

    public Task CreateAsync(string mailbox, CancellationToken cancellationToken = default) =>
        MailboxCommands.SimpleAsync(this, "CREATE", mailbox, cancellationToken);

    public Task DeleteAsync(string mailbox, CancellationToken cancellationToken = default) =>
        MailboxCommands.DeleteAsync(this, mailbox, cancellationToken);

    public Task RenameAsync(string mailbox, string newName, CancellationToken cancellationToken = default) =>
        MailboxCommands.RenameAsync(this, mailbox, newName, cancellationToken);

    public Task SubscribeAsync(string mailbox, CancellationToken cancellationToken = default) =>
        MailboxCommands.SimpleAsync(this, "SUBSCRIBE", mailbox, cancellationToken);

    public Task UnsubscribeAsync(string mailbox, CancellationToken cancellationToken = default) =>
        MailboxCommands.SimpleAsync(this, "UNSUBSCRIBE", mailbox, cancellationToken);

    public Task<SelectedMailbox> SelectAsync(string mailbox, SelectOptions? options = null, CancellationToken cancellationToken = default) =>
        SelectCommands.SelectAsync(this, "SELECT", mailbox, options ?? SelectOptions.None, cancellationToken);

    public Task<SelectedMailbox> ExamineAsync(string mailbox, SelectOptions? options = null, CancellationToken cancellationToken = default) =>
        SelectCommands.SelectAsync(this, "EXAMINE", mailbox, options ?? SelectOptions.None, cancellationToken);

    /// <summary>CLOSE: leaves the mailbox, silently expunging messages marked \Deleted.</summary>
    public Task CloseAsync(CancellationToken cancellationToken = default) =>
        SelectCommands.LeaveAsync(this, "CLOSE", cancellationToken);

    /// <summary>UNSELECT (RFC 3691): leaves the mailbox without expunging.</summary>
    public Task UnselectAsync(CancellationToken cancellationToken = default) =>
        SelectCommands.LeaveAsync(this, "UNSELECT", cancellationToken);

    // Messages

    /// <summary>UID SEARCH with raw criteria (such as "UID 10:*" or "HEADER Message-ID x"); ESEARCH is used when offered.</summary>
    public Task<UidSet> UidSearchAsync(SearchQuery query, CancellationToken cancellationToken = default) =>
        SearchCommands.UidSearchAsync(this, query, cancellationToken);

    /// <summary>UID FETCH, collected. For bodies prefer <see cref="UidFetchStreamAsync"/>.</summary>
    public Task<FetchResult> UidFetchAsync(UidSet uids, FetchRequest request, CancellationToken cancellationToken = default) =>
        FetchCommands.FetchAsync(this, uids, request, cancellationToken);

    /// <summary>
    /// UID FETCH, yielding each message as it arrives, with backpressure. Consume or dispose the
    /// enumeration before awaiting another command on this client. Each item must be disposed.
    /// </summary>
    public IAsyncEnumerable<MessageData> UidFetchStreamAsync(UidSet uids, FetchRequest request, CancellationToken cancellationToken = default) =>
        FetchCommands.FetchStreamAsync(this, uids, request, cancellationToken);

    public Task<StoreResult> UidStoreAsync(UidSet uids, StoreMode mode, MessageFlags flags, bool silent = false, ulong? unchangedSince = null, CancellationToken cancellationToken = default) =>
        StoreCommands.UidStoreAsync(this, uids, mode, flags, silent, unchangedSince, cancellationToken);

    public Task<AppendResult> AppendAsync(string mailbox, AppendMessage message, CancellationToken cancellationToken = default) =>
        AppendCommands.AppendAsync(this, mailbox, [message], cancellationToken);

    /// <summary>MULTIAPPEND (RFC 3502): all messages in one atomic command; falls back to one APPEND each.</summary>
    public Task<AppendResult> MultiAppendAsync(string mailbox, IReadOnlyList<AppendMessage> messages, CancellationToken cancellationToken = default) =>
        AppendCommands.MultiAppendAsync(this, mailbox, messages, cancellationToken);

    /// <summary>UID EXPUNGE (RFC 4315): removes exactly these messages, never others marked \Deleted.</summary>
    public Task<UidSet> UidExpungeAsync(UidSet uids, CancellationToken cancellationToken = default) =>
        MessageCommands.UidExpungeAsync(this, uids, cancellationToken);

    /// <summary>EXPUNGE: removes every message marked \Deleted; returns their sequence numbers.</summary>
    public Task<IReadOnlyList<uint>> ExpungeAsync(CancellationToken cancellationToken = default) =>
        MessageCommands.ExpungeAsync(this, cancellationToken);

    public Task<CopyResult?> UidCopyAsync(UidSet uids, string destination, CancellationToken cancellationToken = default) =>
        MessageCommands.UidCopyOrMoveAsync(this, "UID COPY", uids, destination, cancellationToken);

    /// <summary>UID MOVE (RFC 6851). Without MOVE on the server, use copy, flag and UID EXPUNGE instead.</summary>
    public Task<CopyResult?> UidMoveAsync(UidSet uids, string destination, CancellationToken cancellationToken = default) =>
        MessageCommands.UidCopyOrMoveAsync(this, "UID MOVE", uids, destination, cancellationToken);

    // Push

    /// <summary>
    /// IDLE until <paramref name="done"/> is cancelled, re-issuing it every <see cref="ImapClientOptions.IdleRestartInterval"/>
    /// so servers that drop idle clients after 30 minutes never do. Changes arrive on <see cref="Events"/>.
    /// </summary>
    public Task IdleAsync(CancellationToken done, CancellationToken cancellationToken = default) =>
        IdleCommand.IdleAsync(this, done, cancellationToken);

    public Task NotifySetAsync(NotifyRequest request, CancellationToken cancellationToken = default) =>
        NotifyCommands.SetAsync(this, request, cancellationToken);

    public Task NotifyNoneAsync(CancellationToken cancellationToken = default) =>
        NotifyCommands.NoneAsync(this, cancellationToken);

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}

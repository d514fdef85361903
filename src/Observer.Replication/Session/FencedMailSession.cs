using System.Threading.Channels;
using Observer.Mail;

namespace Observer.Replication;

/// <summary>
/// A replica session that writes only while this worker holds the account's lease. No IMAP server checks a fencing
/// token, so the check is the worker's own: before each write, <paramref name="ensureHeld"/> throws once the lease's
/// deadline on this process's monotonic clock has passed, a deadline kept shorter than the lease in the database, so a
/// worker paused past it stops writing before another can own the account. Reads pass through untouched.
/// </summary>
public sealed class FencedMailSession(IMailSession inner, Action ensureHeld) : IMailSession
{
    private T Write<T>(Func<T> write)
    {
        ensureHeld();
        return write();
    }

    public string Role => inner.Role;
    public SessionFeatures Features => inner.Features;
    public char? Delimiter => inner.Delimiter;
    public string PersonalPrefix => inner.PersonalPrefix;
    public bool IsConnected => inner.IsConnected;
    public string? SelectedFolder => inner.SelectedFolder;
    public ChannelReader<MailEvent> Events => inner.Events;

    public Task<IReadOnlyList<MailboxWithStatus>> ListAsync(bool withStatus, CancellationToken cancellationToken) => inner.ListAsync(withStatus, cancellationToken);
    public Task<MailboxStatus> StatusAsync(string folder, CancellationToken cancellationToken) => inner.StatusAsync(folder, cancellationToken);
    public Task<SelectedMailbox> SelectAsync(string folder, bool readOnly, QResyncParameters? qresync, CancellationToken cancellationToken) =>
        inner.SelectAsync(folder, readOnly, qresync, cancellationToken);
    public Task UnselectAsync(CancellationToken cancellationToken) => inner.UnselectAsync(cancellationToken);
    public Task<FetchResult> FetchFlagsAsync(UidSet uids, ulong? changedSince, CancellationToken cancellationToken) => inner.FetchFlagsAsync(uids, changedSince, cancellationToken);
    public Task<FetchResult> FetchAttributesAsync(UidSet uids, CancellationToken cancellationToken) => inner.FetchAttributesAsync(uids, cancellationToken);
    public Task<FetchResult> FetchSummariesAsync(UidSet uids, CancellationToken cancellationToken) => inner.FetchSummariesAsync(uids, cancellationToken);
    public IAsyncEnumerable<MessageData> FetchMessagesAsync(UidSet uids, CancellationToken cancellationToken) => inner.FetchMessagesAsync(uids, cancellationToken);
    public IAsyncEnumerable<MessageData> FetchBodiesAsync(UidSet uids, CancellationToken cancellationToken) => inner.FetchBodiesAsync(uids, cancellationToken);
    public Task<UidSet> SearchAsync(SearchQuery query, CancellationToken cancellationToken) => inner.SearchAsync(query, cancellationToken);

    public Task<AppendResult> AppendAsync(string folder, IReadOnlyList<AppendMessage> messages, CancellationToken cancellationToken) =>
        Write(() => inner.AppendAsync(folder, messages, cancellationToken));
    public Task SetFlagsAsync(UidSet uids, MessageFlags flags, CancellationToken cancellationToken) => Write(() => inner.SetFlagsAsync(uids, flags, cancellationToken));
    public Task ExpungeAsync(UidSet uids, CancellationToken cancellationToken) => Write(() => inner.ExpungeAsync(uids, cancellationToken));
    public Task<CopyResult?> CopyAsync(UidSet uids, string destination, CancellationToken cancellationToken) => Write(() => inner.CopyAsync(uids, destination, cancellationToken));
    public Task<CopyResult?> MoveAsync(UidSet uids, string destination, CancellationToken cancellationToken) => Write(() => inner.MoveAsync(uids, destination, cancellationToken));
    public Task CreateAsync(string folder, CancellationToken cancellationToken) => Write(() => inner.CreateAsync(folder, cancellationToken));
    public Task DeleteAsync(string folder, CancellationToken cancellationToken) => Write(() => inner.DeleteAsync(folder, cancellationToken));
    public Task RenameAsync(string folder, string newName, CancellationToken cancellationToken) => Write(() => inner.RenameAsync(folder, newName, cancellationToken));
    public Task SetSubscribedAsync(string folder, bool subscribed, CancellationToken cancellationToken) => Write(() => inner.SetSubscribedAsync(folder, subscribed, cancellationToken));

    public Task NoopAsync(CancellationToken cancellationToken) => inner.NoopAsync(cancellationToken);
    public Task WatchFolderAsync(string folder, CancellationToken cancellationToken) => inner.WatchFolderAsync(folder, cancellationToken);
    public Task<IReadOnlyDictionary<uint, MessageFlags>> FetchArrivalsAsync(CancellationToken cancellationToken) => inner.FetchArrivalsAsync(cancellationToken);
    public Task IdleAsync(CancellationToken done, CancellationToken cancellationToken) => inner.IdleAsync(done, cancellationToken);
    public Task WatchAllAsync(CancellationToken cancellationToken) => inner.WatchAllAsync(cancellationToken);
    public Task ListenAsync(TimeSpan keepAlive, CancellationToken cancellationToken) => inner.ListenAsync(keepAlive, cancellationToken);
    public Task LogoutAsync(CancellationToken cancellationToken) => inner.LogoutAsync(cancellationToken);
    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>Hands out replica sessions fenced by the account's lease (<see cref="FencedMailSession"/>); primary sessions as they are.</summary>
public sealed class FencedMailSessionFactory(IMailSessionFactory inner, Action ensureHeld) : IMailSessionFactory
{
    private IMailSession Fence(ServerRole role, IMailSession session) => role == ServerRole.Replica ? new FencedMailSession(session, ensureHeld) : session;

    public async Task<IMailSession> ConnectAsync(ServerRole role, string purpose, CancellationToken cancellationToken) =>
        Fence(role, await inner.ConnectAsync(role, purpose, cancellationToken).ConfigureAwait(false));

    public async Task<IMailSession?> TryConnectAsync(ServerRole role, string purpose, TimeSpan patience, CancellationToken cancellationToken) =>
        await inner.TryConnectAsync(role, purpose, patience, cancellationToken).ConfigureAwait(false) is { } session ? Fence(role, session) : null;

    public async Task<(Task<IMailSession> Primary, Task<IMailSession> Replica)?> StartPairAsync(string purpose, bool optional, CancellationToken cancellationToken)
    {
        if (await inner.StartPairAsync(purpose, optional, cancellationToken).ConfigureAwait(false) is not { } pair) return null;
        return (pair.Primary, FenceAsync(pair.Replica));
    }

    private async Task<IMailSession> FenceAsync(Task<IMailSession> replica) => Fence(ServerRole.Replica, await replica.ConfigureAwait(false));
}

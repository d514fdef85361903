using System.Threading.Channels;
using Observer.Mail;

namespace Observer.Replication;

/// <summary>
/// A session that writes only while this worker holds the account's lease. No IMAP server checks a fencing token, so
/// the check is the worker's own: before each write, <paramref name="remaining"/> says how long the worker may still
/// write (and throws <see cref="State.LeaseLostException"/> when it may not), by a deadline on this process's monotonic
/// clock that is kept shorter than the lease in the database. A write still running when the deadline passes, not
/// moved on by a renewal meanwhile, is cut off: its connection is dropped with it, so a half-sent message is never
/// stored, and another worker can own the account only later. Reads pass through untouched.
/// </summary>
public sealed class FencedMailSession(IMailSession inner, Func<TimeSpan> remaining, TimeProvider time) : IMailSession
{
    private async Task<T> WriteAsync<T>(Func<CancellationToken, Task<T>> write, CancellationToken cancellationToken)
    {
        var left = remaining();
        using var cutOff = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var done = new CancellationTokenSource();
        var writing = write(cutOff.Token);
        while (!writing.IsCompleted)
        {
            await Task.WhenAny(writing, Task.Delay(left, time, done.Token)).ConfigureAwait(false);
            if (writing.IsCompleted) break;
            try
            {
                left = remaining();
            }
            catch (State.LeaseLostException lost)
            {
                await cutOff.CancelAsync().ConfigureAwait(false);
                try
                {
                    // Landed all the same just now: still before the lease can expire in the database, so it stands.
                    return await writing.ConfigureAwait(false);
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    // Cut off (the session broke with it): the lease lost is the cause, whatever the session made of it.
                    throw lost;
                }
            }
        }
        await done.CancelAsync().ConfigureAwait(false);
        return await writing.ConfigureAwait(false);
    }

    private async Task WriteAsync(Func<CancellationToken, Task> write, CancellationToken cancellationToken) =>
        await WriteAsync(async token =>
        {
            await write(token).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

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
    public IAsyncEnumerable<MessageDigest> FetchDigestsAsync(UidSet uids, CancellationToken cancellationToken) => inner.FetchDigestsAsync(uids, cancellationToken);
    public Task<UidSet> SearchAsync(SearchQuery query, CancellationToken cancellationToken) => inner.SearchAsync(query, cancellationToken);

    public Task<AppendResult> AppendAsync(string folder, IReadOnlyList<AppendMessage> messages, CancellationToken cancellationToken) =>
        WriteAsync(token => inner.AppendAsync(folder, messages, token), cancellationToken);
    public Task SetFlagsAsync(UidSet uids, MessageFlags flags, CancellationToken cancellationToken) => WriteAsync(token => inner.SetFlagsAsync(uids, flags, token), cancellationToken);
    public Task ExpungeAsync(UidSet uids, CancellationToken cancellationToken) => WriteAsync(token => inner.ExpungeAsync(uids, token), cancellationToken);
    public Task<CopyResult?> CopyAsync(UidSet uids, string destination, CancellationToken cancellationToken) => WriteAsync(token => inner.CopyAsync(uids, destination, token), cancellationToken);
    public Task<CopyResult?> MoveAsync(UidSet uids, string destination, CancellationToken cancellationToken) => WriteAsync(token => inner.MoveAsync(uids, destination, token), cancellationToken);
    public Task CreateAsync(string folder, CancellationToken cancellationToken) => WriteAsync(token => inner.CreateAsync(folder, token), cancellationToken);
    public Task DeleteAsync(string folder, CancellationToken cancellationToken) => WriteAsync(token => inner.DeleteAsync(folder, token), cancellationToken);
    public Task RenameAsync(string folder, string newName, CancellationToken cancellationToken) => WriteAsync(token => inner.RenameAsync(folder, newName, token), cancellationToken);
    public Task SetSubscribedAsync(string folder, bool subscribed, CancellationToken cancellationToken) => WriteAsync(token => inner.SetSubscribedAsync(folder, subscribed, token), cancellationToken);

    public Task NoopAsync(CancellationToken cancellationToken) => inner.NoopAsync(cancellationToken);
    public Task WatchFolderAsync(string folder, CancellationToken cancellationToken) => inner.WatchFolderAsync(folder, cancellationToken);
    public Task<IReadOnlyDictionary<uint, MessageFlags>> FetchArrivalsAsync(CancellationToken cancellationToken) => inner.FetchArrivalsAsync(cancellationToken);
    public Task IdleAsync(CancellationToken done, CancellationToken cancellationToken) => inner.IdleAsync(done, cancellationToken);
    public Task WatchAllAsync(CancellationToken cancellationToken) => inner.WatchAllAsync(cancellationToken);
    public Task ListenAsync(TimeSpan keepAlive, CancellationToken cancellationToken) => inner.ListenAsync(keepAlive, cancellationToken);
    public Task LogoutAsync(CancellationToken cancellationToken) => inner.LogoutAsync(cancellationToken);
    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>
/// Hands out sessions fenced by the account's lease (<see cref="FencedMailSession"/>): the replica's, and the primary's
/// too, which a failover's copy-back and a restore write to.
/// </summary>
public sealed class FencedMailSessionFactory(IMailSessionFactory inner, Func<TimeSpan> remaining, TimeProvider time) : IMailSessionFactory
{
    private IMailSession Fence(IMailSession session) => new FencedMailSession(session, remaining, time);

    public async Task<IMailSession> ConnectAsync(ServerRole role, string purpose, CancellationToken cancellationToken) =>
        Fence(await inner.ConnectAsync(role, purpose, cancellationToken).ConfigureAwait(false));

    public async Task<IMailSession?> TryConnectAsync(ServerRole role, string purpose, TimeSpan patience, CancellationToken cancellationToken) =>
        await inner.TryConnectAsync(role, purpose, patience, cancellationToken).ConfigureAwait(false) is { } session ? Fence(session) : null;

    public async Task<(Task<IMailSession> Primary, Task<IMailSession> Replica)?> StartPairAsync(string purpose, bool optional, CancellationToken cancellationToken)
    {
        if (await inner.StartPairAsync(purpose, optional, cancellationToken).ConfigureAwait(false) is not { } pair) return null;
        return (FenceAsync(pair.Primary), FenceAsync(pair.Replica));
    }

    private async Task<IMailSession> FenceAsync(Task<IMailSession> session) => Fence(await session.ConfigureAwait(false));
}

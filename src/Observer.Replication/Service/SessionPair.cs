namespace Observer.Replication;

/// <summary>The worker's two sessions: one to the primary, one to the replica.</summary>
internal sealed class SessionPair : IAsyncDisposable
{
    private SessionPair(IMailSession primary, IMailSession replica)
    {
        Primary = primary;
        Replica = replica;
    }

    public IMailSession Primary { get; }
    public IMailSession Replica { get; }

    /// <summary>The folder lists a one-shot pass read while the state's check ran, for its tree sync; see <see cref="Replication.EarlyListing"/>.</summary>
    public EarlyListing? EarlyListing { get; set; }

    /// <summary>
    /// Logs in to both servers at once: each login is a round trip or two the other need not wait for
    /// (about 15 ms of every run against a local Dovecot). If either fails the other is closed, and the
    /// primary's failure is the one reported when both fail, as when they were made one after the other.
    /// </summary>
    public static async Task<SessionPair> ConnectAsync(IMailSessionFactory sessions, OutageReporter outages, CancellationToken cancellationToken) =>
        (await ConnectAsync(sessions, outages, optional: false, cancellationToken).ConfigureAwait(false))!;

    /// <summary>
    /// A pair the work can do without (a pass's extra folder worker): null at once, without logging in anywhere,
    /// when either server's connection budget has no room.
    /// </summary>
    public static Task<SessionPair?> TryConnectAsync(IMailSessionFactory sessions, OutageReporter outages, CancellationToken cancellationToken) =>
        ConnectAsync(sessions, outages, optional: true, cancellationToken);

    private static async Task<SessionPair?> ConnectAsync(IMailSessionFactory sessions, OutageReporter outages, bool optional, CancellationToken cancellationToken)
    {
        if (await sessions.StartPairAsync("worker", optional, cancellationToken).ConfigureAwait(false) is not var (connectingPrimary, connectingReplica)) return null;
        var primary = outages.TrackAsync(ServerRole.Primary, () => connectingPrimary);
        var replica = outages.TrackAsync(ServerRole.Replica, () => connectingReplica);
        try
        {
            await Task.WhenAll(primary, replica).ConfigureAwait(false);
        }
        catch
        {
            foreach (var made in new[] { primary, replica }.Where(t => t.IsCompletedSuccessfully))
                await made.Result.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return new SessionPair(primary.Result, replica.Result);
    }

    /// <summary>Which side is down, when work fails on a broken connection.</summary>
    public ServerRole? Broken => !Primary.IsConnected ? ServerRole.Primary : !Replica.IsConnected ? ServerRole.Replica : null;

    /// <summary>Logs out politely, but never fails: it runs in finally blocks, where a throw would hide the real error.</summary>
    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await Task.WhenAll(LogoutQuietlyAsync(Primary, timeout.Token), LogoutQuietlyAsync(Replica, timeout.Token)).ConfigureAwait(false);
        await Primary.DisposeAsync().ConfigureAwait(false);
        await Replica.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task LogoutQuietlyAsync(IMailSession session, CancellationToken cancellationToken)
    {
        try
        {
            await session.LogoutAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            // A stalled or reset connection: closing it below is all that is left to do.
        }
    }
}

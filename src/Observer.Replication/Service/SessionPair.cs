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

    /// <summary>
    /// Logs in to both servers at once: each login is a round trip or two the other need not wait for
    /// (about 15 ms of every run against a local Dovecot). If either fails the other is closed, and the
    /// primary's failure is the one reported when both fail, as when they were made one after the other.
    /// </summary>
    public static async Task<SessionPair> ConnectAsync(IMailSessionFactory sessions, OutageReporter outages, CancellationToken cancellationToken)
    {
        var primary = outages.TrackAsync(ServerRole.Primary, () => sessions.ConnectAsync(ServerRole.Primary, "worker", cancellationToken));
        var replica = outages.TrackAsync(ServerRole.Replica, () => sessions.ConnectAsync(ServerRole.Replica, "worker", cancellationToken));
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

    /// <summary>
    /// A pair the work can do without (a pass's extra folder worker): null at once when either server's
    /// connection budget has no room.
    /// </summary>
    public static async Task<SessionPair?> TryConnectAsync(IMailSessionFactory sessions, OutageReporter outages, CancellationToken cancellationToken)
    {
        var primary = outages.TrackAsync(ServerRole.Primary, () => sessions.TryConnectAsync(ServerRole.Primary, "worker", TimeSpan.Zero, cancellationToken));
        var replica = outages.TrackAsync(ServerRole.Replica, () => sessions.TryConnectAsync(ServerRole.Replica, "worker", TimeSpan.Zero, cancellationToken));
        try
        {
            await Task.WhenAll(primary, replica).ConfigureAwait(false);
        }
        catch
        {
            foreach (var made in new[] { primary, replica }.Where(t => t.IsCompletedSuccessfully && t.Result is not null))
                await made.Result!.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        if (primary.Result is { } p && replica.Result is { } r) return new SessionPair(p, r);
        if (primary.Result is not null) await primary.Result.DisposeAsync().ConfigureAwait(false);
        if (replica.Result is not null) await replica.Result.DisposeAsync().ConfigureAwait(false);
        return null;
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

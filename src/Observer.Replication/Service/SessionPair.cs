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

    public static async Task<SessionPair> ConnectAsync(IMailSessionFactory sessions, OutageReporter outages, CancellationToken cancellationToken)
    {
        var primary = await outages.TrackAsync(ServerRole.Primary, () => sessions.ConnectAsync(ServerRole.Primary, "worker", cancellationToken)).ConfigureAwait(false);
        try
        {
            var replica = await outages.TrackAsync(ServerRole.Replica, () => sessions.ConnectAsync(ServerRole.Replica, "worker", cancellationToken)).ConfigureAwait(false);
            return new SessionPair(primary, replica);
        }
        catch
        {
            await primary.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Which side is down, when work fails on a broken connection.</summary>
    public ServerRole? Broken => !Primary.IsConnected ? ServerRole.Primary : !Replica.IsConnected ? ServerRole.Replica : null;

    /// <summary>Logs out politely, but never fails: it runs in finally blocks, where a throw would hide the real error.</summary>
    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        foreach (var session in new[] { Primary, Replica })
        {
            try
            {
                await session.LogoutAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
            {
                // A stalled or reset connection: closing it below is all that is left to do.
            }
        }
        await Primary.DisposeAsync().ConfigureAwait(false);
        await Replica.DisposeAsync().ConfigureAwait(false);
    }
}

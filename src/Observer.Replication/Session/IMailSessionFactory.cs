namespace Observer.Replication;

public interface IMailSessionFactory
{
    /// <summary>Opens a new logged-in session to the primary or the replica.</summary>
    Task<IMailSession> ConnectAsync(ServerRole role, string purpose, CancellationToken cancellationToken);

    /// <summary>
    /// A session the work can do without: null when the server's connection budget has no room within
    /// <paramref name="patience"/> (see <see cref="ConnectionBudget.TryTakeAsync"/>). Without a budget it is <see cref="ConnectAsync"/>.
    /// </summary>
    async Task<IMailSession?> TryConnectAsync(ServerRole role, string purpose, TimeSpan patience, CancellationToken cancellationToken) =>
        await ConnectAsync(role, purpose, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Starts logging in to both servers at once, for a worker pair. A budgeted factory first takes the primary's
    /// slot and then the replica's, the same order for every pair, so that pairs never wait on each other in a
    /// cycle; with <paramref name="optional"/>, it returns null at once when either budget has no room.
    /// </summary>
    Task<(Task<IMailSession> Primary, Task<IMailSession> Replica)?> StartPairAsync(string purpose, bool optional, CancellationToken cancellationToken) =>
        Task.FromResult<(Task<IMailSession>, Task<IMailSession>)?>((ConnectAsync(ServerRole.Primary, purpose, cancellationToken), ConnectAsync(ServerRole.Replica, purpose, cancellationToken)));
}

public enum ServerRole
{
    Primary,
    Replica,
}

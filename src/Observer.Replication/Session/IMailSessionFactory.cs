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
}

public enum ServerRole
{
    Primary,
    Replica,
}

namespace Observer.Replication;

public interface IMailSessionFactory
{
    /// <summary>Opens a new logged-in session to the primary or the replica.</summary>
    Task<IMailSession> ConnectAsync(ServerRole role, string purpose, CancellationToken cancellationToken);
}

public enum ServerRole
{
    Primary,
    Replica,
}

namespace Observer.Replication.Tests.InMemory;

/// <summary>Sessions on a pair of in-memory servers, and a way to refuse new ones, as a server that is down would.</summary>
public sealed class InMemorySessionFactory(InMemoryMailServer primary, InMemoryMailServer replica) : IMailSessionFactory
{
    /// <summary>While set, connecting to that side fails as an unreachable server does.</summary>
    public ServerRole? Down { get; set; }

    /// <summary>Every session made, by side, so a test can tell whether any was left open.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<(ServerRole Role, IMailSession Session)> Made { get; } = new();

    public int Connections => Made.Count;

    public Task<IMailSession> ConnectAsync(ServerRole role, string purpose, CancellationToken cancellationToken)
    {
        if (Down == role) return Task.FromException<IMailSession>(new Observer.Mail.ImapConnectionException($"the {role.ToString().ToLowerInvariant()} could not be reached"));
        var session = new InMemoryMailSession(role == ServerRole.Primary ? primary : replica);
        Made.Enqueue((role, session));
        return Task.FromResult<IMailSession>(session);
    }
}

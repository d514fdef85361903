using Microsoft.Extensions.Logging;
using Observer.Replication;

namespace Observer.MailKit;

/// <summary>
/// Connects and logs in through MailKit, and enables what replication uses (QRESYNC, UTF-8 names) where offered.
/// With budgets, each connection holds a slot of its server's budget from before it connects until it closes.
/// </summary>
public sealed class MailKitMailSessionFactory(
    EndpointOptions primary,
    EndpointOptions replica,
    ILoggerFactory loggers,
    TimeProvider? time = null,
    string? spoolDirectory = null,
    ConnectionBudget? primaryBudget = null,
    ConnectionBudget? replicaBudget = null) : IMailSessionFactory
{
    private readonly ILogger _trace = loggers.CreateLogger("Observer.Imap.Protocol");

    public async Task<IMailSession> ConnectAsync(ServerRole role, string purpose, CancellationToken cancellationToken)
    {
        var budget = Budget(role);
        var lease = budget is null ? null : await budget.TakeAsync(cancellationToken).ConfigureAwait(false);
        return await ConnectWithinAsync(role, purpose, lease, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IMailSession?> TryConnectAsync(ServerRole role, string purpose, TimeSpan patience, CancellationToken cancellationToken)
    {
        var budget = Budget(role);
        if (budget is null) return await ConnectWithinAsync(role, purpose, null, cancellationToken).ConfigureAwait(false);
        return await budget.TryTakeAsync(patience, cancellationToken).ConfigureAwait(false) is { } lease
            ? await ConnectWithinAsync(role, purpose, lease, cancellationToken).ConfigureAwait(false)
            : null;
    }

    public async Task<(Task<IMailSession> Primary, Task<IMailSession> Replica)?> StartPairAsync(string purpose, bool optional, CancellationToken cancellationToken)
    {
        var primaryLease = await TakeAsync(primaryBudget, optional, cancellationToken).ConfigureAwait(false);
        if (primaryBudget is not null && primaryLease is null) return null;
        IDisposable? replicaLease;
        try
        {
            replicaLease = await TakeAsync(replicaBudget, optional, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            primaryLease?.Dispose();
            throw;
        }
        if (replicaBudget is not null && replicaLease is null)
        {
            primaryLease?.Dispose();
            return null;
        }
        return (ConnectWithinAsync(ServerRole.Primary, purpose, primaryLease, cancellationToken), ConnectWithinAsync(ServerRole.Replica, purpose, replicaLease, cancellationToken));
    }

    private static async Task<IDisposable?> TakeAsync(ConnectionBudget? budget, bool optional, CancellationToken cancellationToken) =>
        budget is null ? null
        : optional ? await budget.TryTakeAsync(TimeSpan.Zero, cancellationToken).ConfigureAwait(false)
        : await budget.TakeAsync(cancellationToken).ConfigureAwait(false);

    private ConnectionBudget? Budget(ServerRole role) => role == ServerRole.Primary ? primaryBudget : replicaBudget;

    /// <summary>Connects holding <paramref name="lease"/>, which the connection gives back when it closes (or this, if it fails).</summary>
    private async Task<IMailSession> ConnectWithinAsync(ServerRole role, string purpose, IDisposable? lease, CancellationToken cancellationToken)
    {
        var endpoint = role == ServerRole.Primary ? primary : replica;
        var side = role == ServerRole.Primary ? "primary" : "replica";
        MailKitConnection connection;
        try
        {
            connection = await MailKitConnector.ConnectAsync(endpoint, side, purpose, _trace, cancellationToken, spoolDirectory, time).ConfigureAwait(false);
        }
        catch
        {
            lease?.Dispose();
            throw;
        }
        connection.Lease = lease;
        MailKitMailSession? session = null;
        try
        {
            session = new MailKitMailSession(connection, endpoint.CommandTimeout, time ?? TimeProvider.System);
            await session.EnableAsync(cancellationToken).ConfigureAwait(false);
            return session;
        }
        catch
        {
            if (session is null) connection.Dispose();
            else await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}

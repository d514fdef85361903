using MailKit.Net.Imap;
using Microsoft.Extensions.Logging;
using Observer.Replication;
using ImapCapabilities = MailKit.Net.Imap.ImapCapabilities;

namespace Observer.MailKit;

/// <summary>Connects and logs in through MailKit, and enables what replication uses (QRESYNC, UTF-8 names) where offered.</summary>
public sealed class MailKitMailSessionFactory(
    EndpointOptions primary,
    EndpointOptions replica,
    ILoggerFactory loggers,
    TimeProvider? time = null,
    string? spoolDirectory = null) : IMailSessionFactory
{
    private readonly ILogger _trace = loggers.CreateLogger("Observer.Imap.Protocol");

    public async Task<IMailSession> ConnectAsync(ServerRole role, string purpose, CancellationToken cancellationToken)
    {
        var endpoint = role == ServerRole.Primary ? primary : replica;
        var side = role == ServerRole.Primary ? "primary" : "replica";
        var connection = await MailKitConnector.ConnectAsync(endpoint, side, purpose, _trace, cancellationToken, spoolDirectory, time).ConfigureAwait(false);
        try
        {
            var client = connection.Client;
            await MailKitFailures.RunAsync("ENABLE", side, connection.Tap, async () =>
            {
                if (client.Capabilities.HasFlag(ImapCapabilities.QuickResync)) await client.EnableQuickResyncAsync(cancellationToken).ConfigureAwait(false);
                if (client.Capabilities.HasFlag(ImapCapabilities.UTF8Accept)) await client.EnableUTF8Async(cancellationToken).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
            return new MailKitMailSession(connection, endpoint.CommandTimeout, time ?? TimeProvider.System);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }
}

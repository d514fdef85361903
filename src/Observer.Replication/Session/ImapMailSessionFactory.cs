using Microsoft.Extensions.Logging;
using Observer.Imap;

namespace Observer.Replication;

/// <summary>Connects, logs in, enables what replication needs and learns the delimiter and namespace.</summary>
public sealed class ImapMailSessionFactory(
    EndpointOptions primary,
    EndpointOptions replica,
    ILoggerFactory loggers,
    TimeProvider? time = null,
    ILiteralSpool? spool = null) : IMailSessionFactory
{
    private readonly ILogger _trace = loggers.CreateLogger("Observer.Imap.Protocol");

    public async Task<IMailSession> ConnectAsync(ServerRole role, string purpose, CancellationToken cancellationToken)
    {
        var endpoint = role == ServerRole.Primary ? primary : replica;
        var name = role == ServerRole.Primary ? "primary" : "replica";
        var options = new ImapClientOptions
        {
            Host = endpoint.Host,
            Port = endpoint.EffectivePort,
            Security = endpoint.Security,
            AllowInvalidCertificate = endpoint.AllowInvalidCertificate,
            CertificateThumbprint = endpoint.CertificateThumbprint,
            AllowPlaintextLogin = endpoint.AllowPlaintextLogin,
            ConnectTimeout = endpoint.ConnectTimeout,
            CommandTimeout = endpoint.CommandTimeout,
            TimeProvider = time ?? TimeProvider.System,
            LiteralSpool = spool ?? TempFileLiteralSpool.Default,
            ProtocolLogger = _trace.IsEnabled(LogLevel.Trace) ? _trace : null,
            TraceName = $"{name}/{purpose}",
            SettingsPrefix = role == ServerRole.Primary ? "Primary:" : "Replica:",
        };
        var client = await ImapClient.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        try
        {
            if (!client.IsAuthenticated) await LoginAsync(client, endpoint, cancellationToken).ConfigureAwait(false);
            await client.EnableAsync(["CONDSTORE", "QRESYNC", "UTF8=ACCEPT"], cancellationToken).ConfigureAwait(false);
            var ns = await client.GetPersonalNamespaceAsync(cancellationToken).ConfigureAwait(false);
            var delimiter = ns?.PersonalDelimiter ?? await client.GetDelimiterAsync(cancellationToken).ConfigureAwait(false);
            return new ImapMailSession(name, client, delimiter, ns?.PersonalPrefix ?? "");
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static Task LoginAsync(ImapClient client, EndpointOptions endpoint, CancellationToken cancellationToken)
    {
        var secret = endpoint.ResolvePassword();
        return endpoint.AuthMechanism.ToUpperInvariant() switch
        {
            "LOGIN" => client.LoginAsync(endpoint.Username, secret, cancellationToken),
            "PLAIN" => client.AuthenticateAsync(SaslMechanism.Plain(endpoint.Username, secret), cancellationToken),
            "XOAUTH2" => client.AuthenticateAsync(SaslMechanism.XOAuth2(endpoint.Username, secret), cancellationToken),
            "OAUTHBEARER" => client.AuthenticateAsync(SaslMechanism.OAuthBearer(endpoint.Username, secret, endpoint.Host, endpoint.EffectivePort), cancellationToken),
            _ when client.Capabilities.SupportsAuth("PLAIN") && !client.Capabilities.LoginDisabled =>
                client.AuthenticateAsync(SaslMechanism.Plain(endpoint.Username, secret), cancellationToken),
            _ => client.LoginAsync(endpoint.Username, secret, cancellationToken),
        };
    }
}

using Microsoft.Extensions.Logging;
using Observer.Imap;
using Observer.Mail;

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
        ImapClient client;
        try
        {
            client = await ImapClient.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (ImapGreetingException ex)
        {
            throw new ImapGreetingException(ex.Host, ex.Port, ex.Greeting,
                $"the {name} at {ex.Host}:{ex.Port} is not an IMAP server (it greeted with \"{ex.Greeting}\"); check {options.SettingsPrefix}Host and {options.SettingsPrefix}Port", ex);
        }
        try
        {
            if (!client.IsAuthenticated) await LoginAsync(client, endpoint, name, options.SettingsPrefix, cancellationToken).ConfigureAwait(false);
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

    /// <summary>Logs in; a refusal says which server refused, since both may well be the same software on the same host.</summary>
    private static async Task LoginAsync(ImapClient client, EndpointOptions endpoint, string name, string settingsPrefix, CancellationToken cancellationToken)
    {
        try
        {
            await AuthenticateAsync(client, endpoint, cancellationToken).ConfigureAwait(false);
        }
        catch (ImapAuthenticationException ex) when (ex.ServerText is not null)
        {
            throw new ImapAuthenticationException(
                $"the {name} ({endpoint.Host}:{endpoint.EffectivePort}) refused the login for user {endpoint.Username}: {ex.ServerText}; check {settingsPrefix}Username and the password",
                ex.Code, ex, ex.ServerText);
        }
    }

    private static Task AuthenticateAsync(ImapClient client, EndpointOptions endpoint, CancellationToken cancellationToken)
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

using System.Net;

namespace Observer.Imap;

/// <summary>LOGIN and AUTHENTICATE, refusing to send secrets where they could be read on the wire.</summary>
internal static class Authenticator
{
    private const int MaxChallenges = 8;

    public static async Task LoginAsync(ImapClient client, string username, string password, CancellationToken cancellationToken)
    {
        EnsureSecretsMaySend(client);
        if (client.Capabilities.LoginDisabled)
            throw new ImapAuthenticationException(
                $"{client.Options.Host} disables LOGIN here (LOGINDISABLED); connect with TLS (Security=Tls or StartTls) or use an AUTHENTICATE mechanism");
        var command = client.Command("LOGIN").Sp().String(username).Sp().String(password, sensitive: true);
        // Logging in is part of connecting: a server that trickles its answer is cut after ConnectTimeout.
        var done = await client.Connection.ExecuteAsync(command, null, cancellationToken, limit: client.Options.ConnectTimeout).ConfigureAwait(false);
        await CompleteAsync(client, done, username, cancellationToken).ConfigureAwait(false);
    }

    public static async Task AuthenticateAsync(ImapClient client, SaslMechanism mechanism, CancellationToken cancellationToken)
    {
        EnsureSecretsMaySend(client);
        if (!client.Capabilities.SupportsAuth(mechanism.Name))
            throw new ImapAuthenticationException($"{client.Options.Host} does not offer AUTH={mechanism.Name}");
        var initial = Convert.ToBase64String(mechanism.InitialResponse());
        var saslIr = client.Capabilities.SaslIr;
        var command = client.Command("AUTHENTICATE").Sp().Text(mechanism.Name);
        if (saslIr) command.Sp().Secret(initial.Length == 0 ? "=" : initial);

        var connection = client.Connection;
        var done = await connection.ExecuteAsync(command, null, cancellationToken, async (pending, first, ct) =>
        {
            var continuation = await first.ConfigureAwait(false);
            var initialSent = saslIr;
            for (var round = 0; continuation is not null; round++)
            {
                if (round >= MaxChallenges) throw new ImapProtocolException($"server sent more than {MaxChallenges} SASL challenges");
                string reply;
                if (!initialSent)
                {
                    reply = initial;
                    initialSent = true;
                }
                else
                {
                    reply = Convert.ToBase64String(mechanism.Respond(DecodeChallenge(continuation.Text)));
                }
                var next = connection.ExpectContinuation(pending);
                await connection.WriteLineAsync(reply, "<redacted SASL response>", ct).ConfigureAwait(false);
                continuation = await next.ConfigureAwait(false);
            }
        }, client.Options.ConnectTimeout).ConfigureAwait(false);
        await CompleteAsync(client, done, mechanism.Username, cancellationToken).ConfigureAwait(false);
    }

    private static byte[] DecodeChallenge(string text)
    {
        try
        {
            return Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
            return [];
        }
    }

    private static async Task CompleteAsync(ImapClient client, TaggedResponse done, string username, CancellationToken cancellationToken)
    {
        if (done.Condition != ResponseCondition.Ok)
        {
            var code = done.Code is null ? "" : $"[{done.Code.Name}] ";
            throw new ImapAuthenticationException($"{client.Options.Host}:{client.Options.Port} refused the login for user {username}: {code}{done.Text}",
                done.Code, serverText: code + done.Text);
        }
        client.IsAuthenticated = true;
        // Servers usually send the post-login capabilities in the OK; otherwise ask, since they change after login.
        if (done.Code is not CapabilityCode) await client.RefreshCapabilitiesAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Refuses to send a password or token in clear text to anything but this machine.</summary>
    private static void EnsureSecretsMaySend(ImapClient client)
    {
        var options = client.Options;
        if (options.Security != ImapSecurity.None || options.AllowPlaintextLogin || IsLoopback(options.Host)) return;
        throw new ImapAuthenticationException(
            $"refusing to send credentials to {options.Host} without TLS; set {options.SettingsPrefix}Security=Tls or StartTls, or {options.SettingsPrefix}AllowPlaintextLogin=true on a trusted network");
    }

    internal static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
}

using System.Net;
using System.Net.Sockets;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using Observer.Mail;
using Observer.Replication;
using ImapClient = MailKit.Net.Imap.ImapClient;
using ImapCapabilities = MailKit.Net.Imap.ImapCapabilities;

namespace Observer.MailKit;

/// <summary>
/// Opens a logged-in MailKit client to the primary or the replica from its settings: TLS verified as
/// <see cref="CertificatePolicy"/> says, no password in clear text off this machine unless allowed,
/// the login mechanism asked for, and every failure as one line that names the side and the setting.
/// </summary>
public static class MailKitConnector
{
    /// <summary>Numbers the connections of this process, so the trace of parallel workers can be told apart.</summary>
    private static int s_opened;

    /// <param name="side">"primary" or "replica".</param>
    /// <param name="purpose">What the connection is for ("worker", "notify"…), for the trace.</param>
    /// <param name="spoolDirectory">Where fetched messages over 1 MB are kept while copied; the system's temp folder when null.</param>
    /// <param name="time">The clock of the login's deadline.</param>
    public static async Task<MailKitConnection> ConnectAsync(EndpointOptions endpoint, string side, string purpose, ILogger trace, CancellationToken cancellationToken,
        string? spoolDirectory = null, TimeProvider? time = null)
    {
        var prefix = endpoint.SettingsPrefix(side);
        // Always there, tracing or not: it also keeps the completion lines whose response codes MailKit drops.
        var tap = new ProtocolTraceLogger(trace, $"{side}/{purpose}#{Interlocked.Increment(ref s_opened)}");
        var client = new SpoolingImapClient(tap, spoolDirectory ?? Path.GetTempPath()) { Timeout = (int)endpoint.CommandTimeout.TotalMilliseconds };
        var trust = new CertificatePolicy(endpoint.CertificateThumbprint, endpoint.AllowInvalidCertificate, prefix);
        client.ServerCertificateValidationCallback = (_, certificate, _, errors) => trust.Validate(certificate, errors);
        ReadAheadSocketStream? transport = null;
        try
        {
            using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connecting.CancelAfter(endpoint.ConnectTimeout);
                try
                {
                    transport = await OpenAsync(endpoint, connecting.Token).ConfigureAwait(false);
                    await client.ConnectAsync(transport, endpoint.Host, endpoint.EffectivePort,
                        TlsMode(endpoint.Security), connecting.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new ImapConnectionException($"the {side} at {endpoint.Host}:{endpoint.EffectivePort} did not answer within {endpoint.ConnectTimeout.TotalSeconds:0} s; check {prefix}Host and {prefix}Port");
                }
                catch (NotSupportedException ex) when (endpoint.Security == ImapSecurity.StartTls)
                {
                    throw new ImapConnectionException($"the {side} at {endpoint.Host}:{endpoint.EffectivePort} does not offer STARTTLS; set {prefix}Security=Tls (and its TLS port), or None on a trusted network", ex);
                }
                catch (global::MailKit.Net.Imap.ImapProtocolException ex)
                {
                    // An SMTP "220 …" or a POP3 "+OK" is the wrong service, which no retry will change.
                    if (tap.FirstServerLine is { } first && !first.StartsWith("* ", StringComparison.Ordinal))
                        throw new ImapGreetingException(endpoint.Host, endpoint.EffectivePort, Printable(first),
                            $"the {side} at {endpoint.Host}:{endpoint.EffectivePort} is not an IMAP server (it greeted with \"{Printable(first)}\"); check {prefix}Host and {prefix}Port", ex);
                    throw new Observer.Mail.ImapProtocolException($"the {side} at {endpoint.Host}:{endpoint.EffectivePort} did not greet as an IMAP server ({ex.Message}); check {prefix}Host and {prefix}Port", ex);
                }
            }
            EnsureSecretsMaySend(endpoint, prefix);
            // Logging in is held to the command deadline too: a server trickling its answer, or announcing
            // a literal no client could read, is cut rather than waited on.
            using (var deadline = new ResponseDeadline(tap, time ?? TimeProvider.System, endpoint.CommandTimeout, new PauseClock(time ?? TimeProvider.System), cancellationToken))
            {
                try
                {
                    await MailKitFailures.RunAsync("LOGIN", side, tap, async () =>
                    {
                        await LoginAsync(client, tap, endpoint, side, prefix, deadline.Token).ConfigureAwait(false);
                        if (endpoint.WantsCompression && client.Capabilities.HasFlag(ImapCapabilities.Compress))
                        {
                            try
                            {
                                await client.CompressAsync(deadline.Token).ConfigureAwait(false);
                            }
                            catch (global::MailKit.Net.Imap.ImapCommandException)
                            {
                                // Offered but refused: the connection works as well without it.
                            }
                        }
                    }, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is ImapConnectionException or Observer.Mail.ImapProtocolException && deadline.Reason is { } reason)
                {
                    var why = tap.OversizedLiteral is null ? "it is too slow or not an IMAP server" : "the connection was closed";
                    throw new ImapConnectionException($"the {side} at {endpoint.Host}:{endpoint.EffectivePort} {reason} while logging in; {why}", ex);
                }
            }
            return new MailKitConnection(client, tap, side) { Transport = transport };
        }
        catch (SslHandshakeException ex)
        {
            client.Dispose();
            throw trust.ToException(endpoint.Host, ex);
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            client.Dispose();
            throw new ImapConnectionException($"the {side} at {endpoint.Host}:{endpoint.EffectivePort} could not be reached: {ex.Message}; check {prefix}Host and {prefix}Port", ex);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>The TCP connection, made here rather than by MailKit so that it is read in large pieces.</summary>
    private static async Task<ReadAheadSocketStream> OpenAsync(EndpointOptions endpoint, CancellationToken cancellationToken)
    {
        // Dual mode where the system has IPv6; each of the host's addresses is tried in turn.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint.Host, endpoint.EffectivePort, cancellationToken).ConfigureAwait(false);
            return new ReadAheadSocketStream(new NetworkStream(socket, ownsSocket: true));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static SecureSocketOptions TlsMode(ImapSecurity security) => security switch
    {
        ImapSecurity.Tls => SecureSocketOptions.SslOnConnect,
        ImapSecurity.StartTls => SecureSocketOptions.StartTls,
        _ => SecureSocketOptions.None,
    };

    /// <summary>Refuses to send a password or token in clear text to anything but this machine.</summary>
    private static void EnsureSecretsMaySend(EndpointOptions endpoint, string prefix)
    {
        if (endpoint.Security != ImapSecurity.None || endpoint.AllowPlaintextLogin || EndpointOptions.IsLoopback(endpoint.Host)) return;
        throw new ImapAuthenticationException(
            $"refusing to send credentials to {endpoint.Host} without TLS; set {prefix}Security=Tls or StartTls, or {prefix}AllowPlaintextLogin=true on a trusted network");
    }

    private static async Task LoginAsync(ImapClient client, ProtocolTraceLogger tap, EndpointOptions endpoint, string side, string prefix, CancellationToken cancellationToken)
    {
        var mechanism = endpoint.AuthMechanism.ToUpperInvariant();
        if (client.Capabilities.HasFlag(ImapCapabilities.LoginDisabled) && (mechanism == "LOGIN" || (mechanism == "AUTO" && client.AuthenticationMechanisms.Count == 0)))
            throw new ImapAuthenticationException(
                $"the {side} ({endpoint.Host}:{endpoint.EffectivePort}) disables LOGIN here (LOGINDISABLED); connect with TLS ({prefix}Security=Tls or StartTls) or use an AUTHENTICATE mechanism ({prefix}AuthMechanism)");
        var master = endpoint.HasMasterUser;
        var authorize = master && string.IsNullOrEmpty(endpoint.MasterUserSeparator);
        var credentials = new NetworkCredential(
            !master ? endpoint.Username : authorize ? endpoint.MasterUser : endpoint.Username + endpoint.MasterUserSeparator + endpoint.MasterUser,
            await endpoint.ResolvePasswordAsync(side, cancellationToken).ConfigureAwait(false));
        if (authorize)
        {
            // Only SASL PLAIN carries an authorization identity: the master user logs in, the account's mailbox opens.
            if (!client.AuthenticationMechanisms.Contains("PLAIN"))
                throw new ImapAuthenticationException(
                    $"the {side} ({endpoint.Host}:{endpoint.EffectivePort}) does not offer AUTHENTICATE PLAIN, which a master-user login without {prefix}MasterUserSeparator needs; set {prefix}MasterUserSeparator (Dovecot: *)");
            mechanism = "PLAIN";
        }
        // Only a completion that came after this point is the login's own answer.
        var before = tap.LastCompletion;
        try
        {
            switch (mechanism)
            {
                case "LOGIN":
                    // MailKit sends the LOGIN command when no SASL mechanism is left to choose from.
                    client.AuthenticationMechanisms.Clear();
                    await client.AuthenticateAsync(credentials, cancellationToken).ConfigureAwait(false);
                    break;
                case "PLAIN":
                    await client.AuthenticateAsync(new SaslMechanismPlain(credentials) { AuthorizationId = authorize ? endpoint.Username : null }, cancellationToken).ConfigureAwait(false);
                    break;
                case "SCRAM-SHA-256":
                    await client.AuthenticateAsync(new SaslMechanismScramSha256(credentials), cancellationToken).ConfigureAwait(false);
                    break;
                case "SCRAM-SHA-1":
                    await client.AuthenticateAsync(new SaslMechanismScramSha1(credentials), cancellationToken).ConfigureAwait(false);
                    break;
                case "XOAUTH2":
                    await client.AuthenticateAsync(new SaslMechanismOAuth2(credentials), cancellationToken).ConfigureAwait(false);
                    break;
                case "OAUTHBEARER":
                    await client.AuthenticateAsync(new SaslMechanismOAuthBearer(credentials), cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    // The strongest mechanism both sides have (SCRAM before PLAIN before LOGIN).
                    await client.AuthenticateAsync(credentials, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
        catch (AuthenticationException ex)
        {
            // The server's own words with their response code ([AUTHENTICATIONFAILED], [UNAVAILABLE]…), which MailKit's message leaves out.
            var answer = ReferenceEquals(tap.LastCompletion, before) ? null : tap.LastCompletion;
            var said = answer?.Split(' ', 3) is [_, _, var words] ? words : ex.Message;
            throw new ImapAuthenticationException(
                master
                    ? $"the {side} ({endpoint.Host}:{endpoint.EffectivePort}) refused the login for user {endpoint.Username} as master user {endpoint.MasterUser}: {said}; "
                      + $"check {prefix}Username, {prefix}MasterUser and the master user's password, and that the server lets it log in as other users"
                    : $"the {side} ({endpoint.Host}:{endpoint.EffectivePort}) refused the login for user {endpoint.Username}: {said}; check {prefix}Username and the password",
                TaggedReply.Parse(answer).Code, ex, said);
        }
    }

    /// <summary>What a server said, safe to print: control characters replaced, cut at 80 characters.</summary>
    private static string Printable(string line) =>
        new string(line.Take(80).Select(c => c is >= ' ' and < '\x7f' ? c : '?').ToArray()) + (line.Length > 80 ? "..." : "");
}

using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace Observer.Imap;

/// <summary>Opens the byte stream under a connection: TCP, then TLS at once or after STARTTLS.</summary>
internal static class ImapTransport
{
    public static async Task<Stream> ConnectTcpAsync(ImapClientOptions options, CancellationToken cancellationToken)
    {
        using var timeout = new TimeLimit(options.ConnectTimeout, options.TimeProvider, cancellationToken);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            await socket.ConnectAsync(options.Host, options.Port, timeout.Token).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new ImapConnectionException($"could not connect to {options.Host}:{options.Port} within {options.ConnectTimeout.TotalSeconds:0} s");
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new ImapConnectionException($"could not connect to {options.Host}:{options.Port}: {ex.Message}", ex);
        }
    }

    public static async Task<Stream> StartTlsAsync(Stream inner, ImapClientOptions options, CancellationToken cancellationToken)
    {
        var policy = new CertificatePolicy(options.CertificateThumbprint, options.AllowInvalidCertificate, options.SettingsPrefix);
        var ssl = new SslStream(inner, leaveInnerStreamOpen: false, (_, certificate, _, errors) => policy.Validate(certificate, errors));
        using var timeout = new TimeLimit(options.ConnectTimeout, options.TimeProvider, cancellationToken);
        try
        {
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = options.Host,
                EnabledSslProtocols = SslProtocols.None,
            }, timeout.Token).ConfigureAwait(false);
            return ssl;
        }
        catch (AuthenticationException ex) when (policy.RejectedErrors is not null)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw policy.ToException(options.Host, ex);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new ImapConnectionException($"TLS handshake with {options.Host}:{options.Port} failed: {ex.Message}", ex);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new ImapConnectionException($"TLS handshake with {options.Host}:{options.Port} timed out");
        }
    }
}

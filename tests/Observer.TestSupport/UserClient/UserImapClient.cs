using System.Net;
using MailKit.Net.Imap;
using MailKit.Security;
using Observer.Mail;

namespace Observer.TestSupport;

/// <summary>
/// A mail user's IMAP client, on MailKit: tests and the benchmark fill accounts with it, change
/// folders and messages as people do, and read both servers back to compare them. It talks to MailKit
/// directly, never through Observer's own session, so that what tests see of a server is not the code
/// under test. Folders go by their full names; a refusal throws <see cref="ImapCommandException"/>
/// with the server's response code and words, a lost connection <see cref="ImapConnectionException"/>.
/// </summary>
public sealed partial class UserImapClient : IAsyncDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private readonly RefusalTap _tap = new();
    private readonly FullNameImapClient _client;

    private UserImapClient() => _client = new FullNameImapClient(_tap) { Timeout = (int)CommandTimeout.TotalMilliseconds };

    /// <summary>A new connection without TLS, logged in with LOGIN.</summary>
    public static async Task<UserImapClient> ConnectAsync(string host, int port, string user, string password, CancellationToken cancellationToken = default)
    {
        var client = new UserImapClient();
        try
        {
            await client.RunAsync("CONNECT", async () =>
            {
                using var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                connecting.CancelAfter(ConnectTimeout);
                await client._client.ConnectAsync(host, port, SecureSocketOptions.None, connecting.Token);
            });
            // MailKit sends LOGIN when it has no SASL mechanism left to choose from.
            client._client.AuthenticationMechanisms.Clear();
            await client.RunAsync("LOGIN", () => client._client.AuthenticateAsync(new NetworkCredential(user, password), cancellationToken));
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
        return client;
    }

    public ImapCapabilities Capabilities => _client.Capabilities;

    public bool IsConnected => _client.IsConnected;

    public Task NoopAsync(CancellationToken cancellationToken = default) => RunAsync("NOOP", () => _client.NoOpAsync(cancellationToken));

    /// <summary>Closes the connection, without LOGOUT.</summary>
    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>One command, failing in Observer's words (<see cref="UserClientFailures"/>).</summary>
    private async Task<T> RunAsync<T>(string command, Func<Task<T>> call)
    {
        var refusals = _tap.Refusals;
        try
        {
            return await call();
        }
        catch (Exception ex) when (UserClientFailures.Translate(command, ex, _tap.Refusals != refusals ? _tap.LastRefusal : null) is { } translated)
        {
            throw translated;
        }
    }

    private Task RunAsync(string command, Func<Task> call) => RunAsync(command, async () =>
    {
        await call();
        return true;
    });
}

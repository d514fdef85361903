using Observer.TestSupport;

namespace Observer.Imap.Tests;

/// <summary>
/// What this project's tests of the built-in client took from Observer.TestSupport before its helpers moved
/// onto MailKit: options and logged-in connections for the built-in client. Goes with this project.
/// </summary>
internal static class OldClientTestSupport
{
    extension(TestServer server)
    {
        public ImapClientOptions Options(ImapSecurity security = ImapSecurity.None) => new()
        {
            Host = server.Host,
            Port = security == ImapSecurity.Tls ? server.TlsPort ?? throw new InvalidOperationException("server has no TLS port") : server.Port,
            Security = security,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            CommandTimeout = TimeSpan.FromSeconds(30),
        };

        /// <summary>A logged-in client on a new connection.</summary>
        public async Task<ImapClient> ConnectAsync(TestAccount account, ImapClientOptions? options = null)
        {
            var client = await ImapClient.ConnectAsync(options ?? server.Options());
            try
            {
                await client.LoginAsync(account.User, account.Password);
            }
            catch
            {
                await client.DisposeAsync();
                throw;
            }
            return client;
        }
    }

    extension(ScriptedImapServer server)
    {
        public ImapClientOptions Options => new()
        {
            Host = "127.0.0.1",
            Port = server.Port,
            Security = ImapSecurity.None,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            CommandTimeout = TimeSpan.FromSeconds(5),
        };
    }
}

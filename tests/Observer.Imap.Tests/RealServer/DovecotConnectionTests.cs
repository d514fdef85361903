using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Imap.Tests;

public class DovecotConnectionTests
{
    private static DovecotServer Server => DovecotFixture.Server;

    [Test]
    public async Task Login_Plain_LearnsPostLoginCapabilities()
    {
        var account = await Server.NewAccountAsync();
        await using var client = await ImapClient.ConnectAsync(Server.Options());
        Assert.That(client.Capabilities.QResync, Is.False, "pre-login capabilities are limited");
        await client.LoginAsync(account.User, account.Password);
        Assert.That((client.IsAuthenticated, client.Capabilities.QResync, client.Capabilities.Notify), Is.EqualTo((true, true, true)));
    }

    [Test]
    public async Task Login_WrongPassword_IsAuthenticationFailure()
    {
        var account = await Server.NewAccountAsync();
        await using var client = await ImapClient.ConnectAsync(Server.Options());
        var ex = Assert.ThrowsAsync<ImapAuthenticationException>(() => client.LoginAsync(account.User, "not-" + account.Password));
        Assert.That(ex!.Code!.Kind, Is.EqualTo(ResponseCodeKind.AuthenticationFailed));
    }

    [Test]
    public async Task AuthenticatePlain_WithSaslIr_Works()
    {
        var account = await Server.NewAccountAsync();
        await using var client = await ImapClient.ConnectAsync(Server.Options());
        await client.AuthenticateAsync(SaslMechanism.Plain(account.User, account.Password));
        Assert.That(client.IsAuthenticated, Is.True);
        await client.NoopAsync();
    }

    [Test]
    public async Task StartTls_SelfSignedCertificate_IsRefusedByDefaultWithAClearFix()
    {
        var ex = Assert.ThrowsAsync<ImapCertificateException>(() => ImapClient.ConnectAsync(Server.Options(ImapSecurity.StartTls)));
        Assert.That(ex!.Message, Does.Contain("AllowInvalidCertificate"));
        Assert.That(ex.Message, Does.Contain(Server.CertificateSha256), "the message gives the thumbprint to pin");
    }

    [Test]
    public void ImplicitTls_SelfSignedCertificate_IsRefusedByDefault()
    {
        Assert.ThrowsAsync<ImapCertificateException>(() => ImapClient.ConnectAsync(Server.Options(ImapSecurity.Tls)));
    }

    [Test]
    public async Task StartTls_PinnedThumbprint_ConnectsAndLogsIn()
    {
        var account = await Server.NewAccountAsync();
        var options = Server.Options(ImapSecurity.StartTls) with { CertificateThumbprint = Server.CertificateSha256 };
        await using var client = await Server.ConnectAsync(account, options);
        Assert.That(client.Capabilities.Has("STARTTLS"), Is.False, "post-TLS capabilities no longer offer STARTTLS");
        await client.NoopAsync();
    }

    [Test]
    public async Task StartTls_WrongPinnedThumbprint_IsRefused()
    {
        var options = Server.Options(ImapSecurity.StartTls) with { CertificateThumbprint = new string('A', 64) };
        Assert.ThrowsAsync<ImapCertificateException>(() => ImapClient.ConnectAsync(options));
        await Task.CompletedTask;
    }

    [Test]
    public async Task ImplicitTls_AllowInvalidCertificate_ConnectsAndLogsIn()
    {
        var account = await Server.NewAccountAsync();
        var options = Server.Options(ImapSecurity.Tls) with { AllowInvalidCertificate = true };
        await using var client = await Server.ConnectAsync(account, options);
        await client.CreateAsync("OverTls");
        Assert.That((await client.ListAsync()).Select(m => m.Name), Does.Contain("OverTls"));
    }

    [Test]
    public async Task Trace_OfRealLoginAndAuthenticate_HasNoPassword()
    {
        var account = await Server.NewAccountAsync();
        var log = new CapturingLogger();
        var options = Server.Options() with { ProtocolLogger = log };
        await using (var login = await Server.ConnectAsync(account, options))
        {
            await login.SelectAsync("INBOX");
            await login.LogoutAsync();
        }
        await using (var sasl = await ImapClient.ConnectAsync(options))
        {
            await sasl.AuthenticateAsync(SaslMechanism.Plain(account.User, account.Password));
            await sasl.LogoutAsync();
        }
        var plain = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"\0{account.User}\0{account.Password}"));
        Assert.That(log.AllText, Does.Contain("SELECT INBOX").And.Contain("AUTHENTICATE PLAIN"));
        Assert.That(log.AllText, Does.Not.Contain(account.Password).And.Not.Contain(plain));
    }

    [Test]
    public async Task Enable_CondstoreAndQresync_UnofferedAreLeftOut()
    {
        var account = await Server.NewAccountAsync();
        await using var client = await Server.ConnectAsync(account);
        var enabled = await client.EnableAsync(["CONDSTORE", "QRESYNC", "UTF8=ACCEPT"]);
        Assert.That(enabled, Is.EquivalentTo(new[] { "CONDSTORE", "QRESYNC" }), "Dovecot 2.3 has no UTF8=ACCEPT");
        Assert.That(client.IsEnabled("QRESYNC"), Is.True);
    }

    [Test]
    public async Task Logout_ClosesCleanly()
    {
        var account = await Server.NewAccountAsync();
        var client = await Server.ConnectAsync(account);
        await client.LogoutAsync();
        Assert.That(client.IsConnected, Is.False);
        Assert.ThrowsAsync<ImapConnectionException>(() => client.NoopAsync());
    }
}

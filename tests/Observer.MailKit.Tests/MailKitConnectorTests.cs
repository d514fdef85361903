using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;
using Observer.Mail;
using Observer.Replication;
using Observer.TestSupport;

namespace Observer.MailKit.Tests;

/// <summary>
/// Logging in through MailKit as the settings say, against a real Dovecot (with its self-signed
/// certificate): TLS verified unless pinned or relaxed, each mechanism, and one-line failures.
/// </summary>
[NonParallelizable]
public class MailKitConnectorTests
{
    private static DovecotPair? _pair;
    private static PairAccounts? _accounts;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _pair = await DovecotPair.StartAsync("mailkit-connect", replicaTls: true);
        _accounts = await _pair.NewAccountsAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_pair is not null) await _pair.DisposeAsync();
    }

    private static EndpointOptions Primary(string mechanism = "Auto") => new()
    {
        Host = _pair!.Primary.Host,
        Port = _pair.Primary.Port,
        Username = _accounts!.Primary.User,
        Password = _accounts.Primary.Password,
        Security = ImapSecurity.None,
        AuthMechanism = mechanism,
    };

    /// <summary>The replica, which is the one of the pair with TLS (on its own port, and STARTTLS on the plain one).</summary>
    private static EndpointOptions Replica(ImapSecurity security) => new()
    {
        Host = _pair!.Replica.Host,
        Port = security == ImapSecurity.Tls ? _pair.Replica.TlsPort!.Value : _pair.Replica.Port,
        Username = _accounts!.Replica.User,
        Password = _accounts.Replica.Password,
        Security = security,
    };

    [TestCase("Auto")]
    [TestCase("Login")]
    [TestCase("Plain")]
    public async Task EachMechanism_LogsIn(string mechanism)
    {
        using var connection = await MailKitConnector.ConnectAsync(Primary(mechanism: mechanism), "primary", "test", NullLogger.Instance, CancellationToken.None);
        Assert.That(connection.Client.IsAuthenticated, Is.True);
    }

    [TestCase(ImapSecurity.Tls)]
    [TestCase(ImapSecurity.StartTls)]
    public void ASelfSignedCertificate_IsRefusedByDefault_WithTheSettingsThatWouldAcceptIt(ImapSecurity security)
    {
        var error = Assert.ThrowsAsync<ImapCertificateException>(() => MailKitConnector.ConnectAsync(Replica(security), "replica", "test", NullLogger.Instance, CancellationToken.None));
        Assert.That(error!.Message, Does.Contain("not signed by a trusted authority")
            .And.Contain("Replica:AllowInvalidCertificate=true")
            .And.Contain("Replica:CertificateThumbprint=" + _pair!.Replica.CertificateSha256));
    }

    [Test]
    public async Task APinnedCertificate_IsAccepted_AndAnotherPinRefusesIt()
    {
        var pinned = Replica(ImapSecurity.Tls);
        pinned.CertificateThumbprint = _pair!.Replica.CertificateSha256;
        using (var connection = await MailKitConnector.ConnectAsync(pinned, "replica", "test", NullLogger.Instance, CancellationToken.None))
            Assert.That(connection.Client.IsAuthenticated && connection.Client.IsSecure, Is.True);

        pinned.CertificateThumbprint = new string('A', 64);
        Assert.ThrowsAsync<ImapCertificateException>(() => MailKitConnector.ConnectAsync(pinned, "replica", "test", NullLogger.Instance, CancellationToken.None));
    }

    [Test]
    public void StartTlsAskedOfAServerWithoutIt_IsOneLineSayingWhatToSet()
    {
        var plain = Primary();
        plain.Security = ImapSecurity.StartTls;
        var error = Assert.ThrowsAsync<ImapConnectionException>(() => MailKitConnector.ConnectAsync(plain, "primary", "test", NullLogger.Instance, CancellationToken.None));
        Assert.That(error!.Message, Does.Contain("does not offer STARTTLS").And.Contain("Primary:Security"));
    }

    [Test]
    public void AWrongPassword_IsOneLineNamingTheSideTheUserAndTheSetting()
    {
        var wrong = Primary();
        wrong.Password = "not-the-password";
        var error = Assert.ThrowsAsync<ImapAuthenticationException>(() => MailKitConnector.ConnectAsync(wrong, "primary", "test", NullLogger.Instance, CancellationToken.None));
        Assert.That(error!.Message, Does.StartWith($"the primary (127.0.0.1:{_pair!.Primary.Port}) refused the login for user {_accounts!.Primary.User}")
            .And.Contain("check Primary:Username and the password")
            .And.Not.Contain("\n"));
    }

    [Test]
    public async Task AServerThatNeverGreets_IsGivenUpOnAfterTheConnectTimeout()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepting = silent.AcceptTcpClientAsync();
        var endpoint = Primary();
        endpoint.Port = ((IPEndPoint)silent.LocalEndpoint).Port;
        endpoint.ConnectTimeout = TimeSpan.FromSeconds(1);
        var error = Assert.ThrowsAsync<ImapConnectionException>(() => MailKitConnector.ConnectAsync(endpoint, "replica", "test", NullLogger.Instance, CancellationToken.None));
        Assert.That(error!.Message, Does.Contain("did not answer within 1 s").And.Contain("check Replica:Host and Replica:Port"));
        (await accepting).Dispose();
    }
}

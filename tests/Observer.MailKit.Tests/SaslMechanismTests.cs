using NUnit.Framework;
using Observer.Mail;
using Observer.Replication;
using Observer.TestSupport;

namespace Observer.MailKit.Tests;

/// <summary>SCRAM through MailKit, against a Dovecot that offers it: chosen by Auto as the strongest, or named.</summary>
[NonParallelizable]
public class SaslMechanismTests
{
    private const string OfferScram = "auth_mechanisms = plain login scram-sha-1 scram-sha-256\n";
    private DovecotServer _server = null!;
    private TestAccount _account = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _server = await DovecotServer.StartAsync("mailkit-sasl", extraConfig: OfferScram);
        _account = await _server.NewAccountAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _server.DisposeAsync();

    [TestCase("Auto", "SCRAM-SHA-256")]
    [TestCase("SCRAM-SHA-1", "SCRAM-SHA-1")]
    [TestCase("Plain", "PLAIN")]
    public async Task TheMechanism_IsTheOneSentAndTheLoginSucceeds(string setting, string sent)
    {
        var trace = new CapturingLogger();
        var endpoint = new EndpointOptions
        {
            Host = _server.Host, Port = _server.Port, Security = ImapSecurity.None,
            Username = _account.User, Password = _account.Password, AuthMechanism = setting,
        };
        using var connection = await MailKitConnector.ConnectAsync(endpoint, "primary", "test", trace, CancellationToken.None);

        Assert.That(connection.Client.IsAuthenticated, Is.True);
        Assert.That(trace.AllText, Does.Match($@"C: [A-Z]\d+ AUTHENTICATE {sent}\b"));
        Assert.That(trace.AllText, Does.Not.Contain(_account.Password));
    }

    [Test]
    public void AWrongPasswordUnderScram_IsRefusedInOneLineNamingTheSide()
    {
        var endpoint = new EndpointOptions
        {
            Host = _server.Host, Port = _server.Port, Security = ImapSecurity.None,
            Username = _account.User, Password = "wrong", AuthMechanism = "SCRAM-SHA-256",
        };
        var error = Assert.ThrowsAsync<ImapAuthenticationException>(() => MailKitConnector.ConnectAsync(endpoint, "replica", "test", new CapturingLogger(), CancellationToken.None));
        Assert.That(error!.Message, Does.StartWith($"the replica ({_server.Host}:{_server.Port}) refused the login for user {_account.User}"));
    }
}

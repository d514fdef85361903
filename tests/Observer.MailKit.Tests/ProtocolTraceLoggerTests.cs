using MailKit.Security;
using NUnit.Framework;
using Observer.TestSupport;
using MailKitClient = MailKit.Net.Imap.ImapClient;

namespace Observer.MailKit.Tests;

/// <summary>
/// MailKit's protocol log through <see cref="ProtocolTraceLogger"/>, against a real Dovecot: every
/// way of logging in leaves the password out of the trace, and message bodies are only counted.
/// </summary>
[NonParallelizable]
public class ProtocolTraceLoggerTests
{
    private static ServerPair? _pair;

    [OneTimeSetUp]
    public async Task StartAsync() => _pair = await ServerPair.StartAsync(ServerKind.Dovecot, ServerKind.Dovecot, "mailkit-trace");

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_pair is not null) await _pair.DisposeAsync();
    }

    [TestCase("LOGIN")]
    [TestCase("PLAIN")]
    [TestCase("strongest offered")]
    public async Task Trace_OfALoginAndAMessage_HoldsNeitherThePasswordNorTheBody(string mechanism)
    {
        var accounts = await _pair!.NewAccountsAsync();
        var trace = new CapturingLogger();
        const string body = "a line only the mail's reader should see";
        using (var client = new MailKitClient(new ProtocolTraceLogger(trace, "primary/test")))
        {
            await client.ConnectAsync(_pair.Primary.Host, _pair.Primary.Port, SecureSocketOptions.None);
            var credentials = new System.Net.NetworkCredential(accounts.Primary.User, accounts.Primary.Password);
            switch (mechanism)
            {
                case "LOGIN":
                    // With no SASL mechanism left to choose, MailKit falls back to the LOGIN command.
                    client.AuthenticationMechanisms.Clear();
                    await client.AuthenticateAsync(credentials);
                    break;
                case "PLAIN":
                    await client.AuthenticateAsync(new SaslMechanismPlain(credentials));
                    break;
                default:
                    await client.AuthenticateAsync(credentials);
                    break;
            }
            var message = VerbatimMessage.From(System.Text.Encoding.ASCII.GetBytes($"Subject: traced\r\n\r\n{body}\r\n"));
            await client.Inbox.AppendAsync(new global::MailKit.AppendRequest(message));
            await client.Inbox.OpenAsync(global::MailKit.FolderAccess.ReadOnly);
            using var fetched = await client.Inbox.GetStreamAsync(0, "");
            await client.DisconnectAsync(quit: true);
        }

        var text = trace.AllText;
        Assert.That(text, Does.Contain(mechanism == "LOGIN" ? " LOGIN " : " AUTHENTICATE "), "the login itself is traced");
        Assert.That(text, Does.Contain("<redacted>"), "where the secret was");
        Assert.That(text, Does.Not.Contain(accounts.Primary.Password));
        Assert.That(text, Does.Not.Contain(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"\0{accounts.Primary.User}\0{accounts.Primary.Password}"))),
            "nor the SASL PLAIN response that carries it");
        Assert.That(text, Does.Not.Contain(body), "message bodies are counted, not logged");
        Assert.That(text, Does.Match(@"APPEND INBOX .*\{\d+\+?\} \[\d+ bytes\]"), "the appended literal, counted");
        Assert.That(text, Does.Match(@"S: \* 1 FETCH .*\[\d+ bytes\]"), "the fetched literal, counted");
    }

    [Test]
    public async Task Trace_OfAMultiappendLongerThanALoggedLine_StillCountsEveryBodyAndLogsNone()
    {
        var accounts = await _pair!.NewAccountsAsync();
        var trace = new CapturingLogger();
        using (var client = new MailKitClient(new ProtocolTraceLogger(trace, "replica/test")))
        {
            await client.ConnectAsync(_pair.Primary.Host, _pair.Primary.Port, SecureSocketOptions.None);
            await client.AuthenticateAsync(new System.Net.NetworkCredential(accounts.Primary.User, accounts.Primary.Password));
            // Each message adds its flags, date and literal to the one command line: 40 of them outgrow the 1,000 characters kept.
            var requests = Enumerable.Range(1, 40).Select(i => (global::MailKit.IAppendRequest)new global::MailKit.AppendRequest(
                VerbatimMessage.From(System.Text.Encoding.ASCII.GetBytes($"Subject: m{i}\r\n\r\nsecret line {i}\r\n")), global::MailKit.MessageFlags.Seen)
            {
                InternalDate = new DateTimeOffset(2024, 1, 1, 7, i, 0, TimeSpan.Zero),
            }).ToList();
            await client.Inbox.AppendAsync(requests);
            await client.DisconnectAsync(quit: true);
        }

        var text = trace.AllText;
        Assert.That(text, Does.Match(@"APPEND INBOX .{900,}"), "one MULTIAPPEND, as long as a logged line may be");
        Assert.That(text, Does.Not.Contain("secret line"), "no body, not even past the part of the line that is logged");
        Assert.That(text, Does.Not.Contain("Subject: m"));
    }
}

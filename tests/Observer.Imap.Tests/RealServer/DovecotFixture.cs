using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Imap.Tests;

/// <summary>One Dovecot (with TLS) for every real-server test in this assembly; each test takes its own account.</summary>
[SetUpFixture]
public class DovecotFixture
{
    private static DovecotServer? _server;

    public static DovecotServer Server => _server ?? throw new InvalidOperationException("Dovecot fixture not started");

    [OneTimeSetUp]
    public async Task StartAsync() => _server = await DovecotServer.StartAsync("imaptests", tls: true);

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}

using NUnit.Framework;
using Observer.Mail;

namespace Observer.Replication.Tests;

/// <summary>How many times a one-shot command (`sync`, `verify`) tries, as `Reconnect:SyncAttempts` says.</summary>
public class ReconnectPolicyTests
{
    private static readonly ReconnectOptions Quick = new() { InitialDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(2) };

    [TestCase(1)]
    [TestCase(3)]
    public void ATransientFailure_IsTriedExactlyTheAttemptsAllowed_ThenReported(int attempts)
    {
        var tried = 0;
        var pipeline = ReconnectPolicy.Build(Quick, attempts, TimeProvider.System);
        // One attempt used to crash `observer sync` with a stack trace: Polly refuses a retry strategy of zero retries.
        var error = Assert.Throws<ImapConnectionException>(() => pipeline.Execute(() =>
        {
            tried++;
            throw new ImapConnectionException("connection lost");
        }));
        Assert.That(tried, Is.EqualTo(attempts));
        Assert.That(error!.Message, Is.EqualTo("connection lost"));
    }

    [Test]
    public void ARefusedLogin_IsNotRetried()
    {
        var tried = 0;
        var pipeline = ReconnectPolicy.Build(Quick, 5, TimeProvider.System);
        Assert.Throws<ImapAuthenticationException>(() => pipeline.Execute(() =>
        {
            tried++;
            throw new ImapAuthenticationException("refused");
        }));
        Assert.That(tried, Is.EqualTo(1));
    }
}

using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>An IMAP account the benchmark acts on as a mail user, reached without TLS.</summary>
internal sealed record BenchEndpoint(string Host, int Port, string User, string Password)
{
    public Task<UserImapClient> ConnectAsync() => UserImapClient.ConnectAsync(Host, Port, User, Password);

    /// <summary>Where it is, without the password.</summary>
    public override string ToString() => $"{User} on {Host}:{Port}";
}

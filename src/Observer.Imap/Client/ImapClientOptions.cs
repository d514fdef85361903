using Microsoft.Extensions.Logging;

namespace Observer.Imap;

public sealed record ImapClientOptions
{
    public required string Host { get; init; }

    public int Port { get; init; } = 143;

    public ImapSecurity Security { get; init; } = ImapSecurity.StartTls;

    /// <summary>Accept any certificate. Only for self-signed test servers.</summary>
    public bool AllowInvalidCertificate { get; init; }

    /// <summary>Accept exactly the certificate with this SHA-256 thumbprint, in hex.</summary>
    public string? CertificateThumbprint { get; init; }

    /// <summary>Allow LOGIN or AUTHENTICATE without TLS to a host that is not loopback.</summary>
    public bool AllowPlaintextLogin { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a command may wait without the server sending a single byte.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>RFC 2177: servers may drop an IDLE after 30 minutes, so it is re-issued sooner.</summary>
    public TimeSpan IdleRestartInterval { get; init; } = TimeSpan.FromMinutes(25);

    public ImapLimits Limits { get; init; } = ImapLimits.Default;

    public ILiteralSpool LiteralSpool { get; init; } = TempFileLiteralSpool.Default;

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Receives the protocol trace at Trace level, with secrets redacted. Null: no trace.</summary>
    public ILogger? ProtocolLogger { get; init; }

    /// <summary>A short name for this connection in the trace, such as "primary".</summary>
    public string TraceName { get; init; } = "imap";

    /// <summary>Prefix for setting names in advice to the user, such as "Replica:" in "set Replica:AllowInvalidCertificate=true".</summary>
    public string SettingsPrefix { get; init; } = "";

    /// <summary>Unread untagged events kept before the oldest are dropped (and a drop is reported).</summary>
    public int EventQueueCapacity { get; init; } = 10_000;
}

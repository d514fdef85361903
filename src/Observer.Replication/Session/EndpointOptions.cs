using Observer.Mail;

namespace Observer.Replication;

/// <summary>How to reach and log in to one server (the Primary or Replica section of the configuration).</summary>
public sealed class EndpointOptions
{
    public string Host { get; set; } = "";

    /// <summary>0 means the usual port for <see cref="Security"/>: 993 for Tls, 143 otherwise.</summary>
    public int Port { get; set; }

    public ImapSecurity Security { get; set; } = ImapSecurity.StartTls;

    public string Username { get; set; } = "";

    /// <summary>The password (or OAuth token). Prefer <see cref="PasswordFile"/> or an environment variable over a config file.</summary>
    public string? Password { get; set; }

    /// <summary>A file whose first line is the password; read at each connect, so it can be rotated.</summary>
    public string? PasswordFile { get; set; }

    /// <summary>
    /// A command (run by /bin/sh) whose first line of output is the password or OAuth access token, run at each login,
    /// as isync's PassCmd: for a token helper that refreshes OAuth2 tokens, or a secret store.
    /// </summary>
    public string? PasswordCommand { get; set; }

    /// <summary>How long <see cref="PasswordCommand"/> may take before it is stopped and the login tried again later.</summary>
    public TimeSpan PasswordCommandTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The folder of the settings file: where <see cref="PasswordCommand"/> runs. Not a setting, as <see cref="Section"/>.</summary>
    public string? SettingsDirectory { get; private set; }

    /// <summary>Login, Plain, SCRAM-SHA-256, SCRAM-SHA-1, XOAuth2 or OAuthBearer. Auto uses the strongest the server offers (SCRAM before PLAIN before LOGIN).</summary>
    public string AuthMechanism { get; set; } = "Auto";

    /// <summary>
    /// An administrator's login that may open <see cref="Username"/>'s mailbox, so one password serves every account:
    /// <see cref="Password"/> is then the master user's. Without <see cref="MasterUserSeparator"/> it logs in by SASL PLAIN
    /// with <see cref="Username"/> as the authorization identity (RFC 4616; Dovecot and Cyrus honour it).
    /// </summary>
    public string? MasterUser { get; set; }

    /// <summary>Logs in as "user{separator}master" instead (Dovecot's auth_master_user_separator, often *).</summary>
    public string? MasterUserSeparator { get; set; }

    /// <summary>Whether a master user logs in on the account's behalf.</summary>
    public bool HasMasterUser => !string.IsNullOrEmpty(MasterUser);

    public bool AllowInvalidCertificate { get; set; }

    /// <summary>SHA-256 of the one certificate to accept, in hex.</summary>
    public string? CertificateThumbprint { get; set; }

    /// <summary>Allow a password in clear text to a host that is not loopback.</summary>
    public bool AllowPlaintextLogin { get; set; }

    /// <summary>COMPRESS=DEFLATE where the server offers it.</summary>
    public Compression Compress { get; set; } = Compression.Auto;

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Where these settings are given ("Primary", or "Accounts:2:Primary" for an account of a list), for errors that
    /// name the key to fix. Not a setting: the private setter keeps the configuration binder off it.
    /// </summary>
    public string Section { get; private set; } = "";

    /// <summary>"Primary:", or "Accounts:2:Primary:": how errors name this login's settings.</summary>
    public string SettingsPrefix(string role) => (Section.Length > 0 ? Section : role == "primary" ? "Primary" : "Replica") + ":";

    /// <summary>Names the folder of the settings file these settings were read from.</summary>
    public EndpointOptions InDirectory(string? directory)
    {
        SettingsDirectory = directory;
        return this;
    }

    /// <summary>Names the section these settings were read from.</summary>
    public EndpointOptions From(string section)
    {
        Section = section;
        return this;
    }

    /// <summary>Whether to compress a connection to a server that offers COMPRESS=DEFLATE.</summary>
    public bool WantsCompression => Compress == Compression.On || (Compress == Compression.Auto && !IsLoopback(Host));

    /// <summary>localhost or a loopback address: traffic that never leaves this machine.</summary>
    public static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (System.Net.IPAddress.TryParse(host, out var address) && System.Net.IPAddress.IsLoopback(address));

    public int EffectivePort => Port != 0 ? Port : Security == ImapSecurity.Tls ? 993 : 143;

    /// <summary>host:port, for logs and for telling endpoints apart in the state database.</summary>
    public string Describe() => $"{Username}@{Host}:{EffectivePort}";

    /// <summary>The password: from the command or the file if one is named. Never logged.</summary>
    public async Task<string> ResolvePasswordAsync(string role, CancellationToken cancellationToken) =>
        string.IsNullOrEmpty(PasswordCommand) ? ResolvePassword() : await Replication.PasswordCommand.RunAsync(this, role, cancellationToken).ConfigureAwait(false);

    private string ResolvePassword()
    {
        if (!string.IsNullOrEmpty(PasswordFile))
        {
            var lines = File.ReadAllLines(PasswordFile);
            return lines.Length > 0 ? lines[0].TrimEnd('\r') : "";
        }
        return Password ?? "";
    }

    /// <summary>Whether both reach the same server the same way and log in alike: a changed password or port is a new login.</summary>
    public bool SameAs(EndpointOptions other) => Fields().SequenceEqual(other.Fields());

    private IEnumerable<string?> Fields() =>
    [
        Host, Port.ToString(System.Globalization.CultureInfo.InvariantCulture), Security.ToString(), Username, Password, PasswordFile, PasswordCommand, PasswordCommandTimeout.ToString(), AuthMechanism,
        MasterUser, MasterUserSeparator, AllowInvalidCertificate.ToString(), CertificateThumbprint, AllowPlaintextLogin.ToString(), Compress.ToString(),
        ConnectTimeout.ToString(), CommandTimeout.ToString(),
    ];

    // Never let a secret reach a log through string interpolation of the options.
    public override string ToString() => Describe();
}

namespace Observer.Mail;

public enum ImapSecurity
{
    /// <summary>Plain TCP. Only sensible on loopback or inside a trusted network.</summary>
    None,

    /// <summary>Plain TCP upgraded with STARTTLS before login.</summary>
    StartTls,

    /// <summary>Implicit TLS from the first byte (usually port 993).</summary>
    Tls,
}

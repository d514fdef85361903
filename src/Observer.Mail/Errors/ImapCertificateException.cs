namespace Observer.Mail;

/// <summary>The server's TLS certificate was refused. Retrying will not help until the certificate or the settings change.</summary>
public sealed class ImapCertificateException : ImapException
{
    public ImapCertificateException(string message, Exception? inner = null) : base(message, inner) { }
}

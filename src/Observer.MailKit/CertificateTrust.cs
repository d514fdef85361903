using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Observer.Imap;

namespace Observer.MailKit;

/// <summary>
/// Whether to trust a server's certificate, as MailKit's ServerCertificateValidationCallback: the
/// system's verdict, unless the admin pinned one certificate or allowed invalid ones. It remembers
/// why it refused, so the error can say what to set.
/// </summary>
/// <remarks>The policy of Observer.Imap's CertificatePolicy, which goes with that library (issue 9).</remarks>
internal sealed class CertificateTrust(string? thumbprint, bool allowInvalid, string settingsPrefix)
{
    private SslPolicyErrors? _refusedFor;
    private string? _refusedThumbprint;

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (!string.IsNullOrWhiteSpace(thumbprint))
        {
            if (certificate is not null && Sha256(certificate).Equals(Normalized(thumbprint), StringComparison.OrdinalIgnoreCase)) return true;
            return Refuse(certificate, errors == SslPolicyErrors.None ? SslPolicyErrors.RemoteCertificateChainErrors : errors);
        }
        if (errors == SslPolicyErrors.None || allowInvalid) return true;
        return Refuse(certificate, errors);
    }

    /// <summary>The one-line error for a refused certificate, naming the settings that would accept it.</summary>
    public ImapCertificateException Refused(string host, Exception inner)
    {
        var why = _refusedFor switch
        {
            SslPolicyErrors.RemoteCertificateNameMismatch => "its name does not match the host",
            SslPolicyErrors.RemoteCertificateChainErrors => "it is not signed by a trusted authority (self-signed?)",
            SslPolicyErrors.RemoteCertificateNotAvailable => "the server sent none",
            null => inner.Message,
            var other => other.ToString(),
        };
        var pin = _refusedThumbprint is null ? "" : $" or pin it with {settingsPrefix}CertificateThumbprint={_refusedThumbprint}";
        return new ImapCertificateException(
            $"TLS certificate of {host} was refused because {why}; fix the certificate, or set {settingsPrefix}AllowInvalidCertificate=true{pin}", inner);
    }

    private bool Refuse(X509Certificate? certificate, SslPolicyErrors errors)
    {
        _refusedFor = errors;
        _refusedThumbprint = certificate is null ? null : Sha256(certificate);
        return false;
    }

    private static string Sha256(X509Certificate certificate) => Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData()));

    private static string Normalized(string pinned) => pinned.Replace(":", "").Replace(" ", "").Trim();
}

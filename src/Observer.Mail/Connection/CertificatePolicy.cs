using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Observer.Mail;

/// <summary>
/// Decides whether to trust a server certificate: the system's validation, unless explicitly relaxed or
/// pinned. It remembers why it refused, so the error can name the settings that would accept it.
/// </summary>
public sealed class CertificatePolicy(string? thumbprint, bool allowInvalid, string settingsPrefix)
{
    public SslPolicyErrors? RejectedErrors { get; private set; }

    public string? RejectedThumbprint { get; private set; }

    public bool Validate(X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (!string.IsNullOrWhiteSpace(thumbprint))
        {
            if (certificate is not null && Matches(certificate, thumbprint)) return true;
            return Reject(certificate, errors == SslPolicyErrors.None ? SslPolicyErrors.RemoteCertificateChainErrors : errors);
        }
        if (errors == SslPolicyErrors.None || allowInvalid) return true;
        return Reject(certificate, errors);
    }

    private bool Reject(X509Certificate? certificate, SslPolicyErrors errors)
    {
        RejectedErrors = errors;
        RejectedThumbprint = certificate is null ? null : Sha256(certificate);
        return false;
    }

    public static string Sha256(X509Certificate certificate) =>
        Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData()));

    private static bool Matches(X509Certificate certificate, string pinned)
    {
        var wanted = pinned.Replace(":", "").Replace(" ", "").Trim();
        return wanted.Equals(Sha256(certificate), StringComparison.OrdinalIgnoreCase);
    }

    public ImapCertificateException ToException(string host, Exception inner)
    {
        var why = RejectedErrors switch
        {
            SslPolicyErrors.RemoteCertificateNameMismatch => "its name does not match the host",
            SslPolicyErrors.RemoteCertificateChainErrors => "it is not signed by a trusted authority (self-signed?)",
            SslPolicyErrors.RemoteCertificateNotAvailable => "the server sent none",
            null => inner.Message,
            _ => RejectedErrors.ToString(),
        };
        var prefix = settingsPrefix;
        var pin = RejectedThumbprint is null ? "" : $" or pin it with {prefix}CertificateThumbprint={RejectedThumbprint}";
        return new ImapCertificateException(
            $"TLS certificate of {host} was refused because {why}; fix the certificate, or set {prefix}AllowInvalidCertificate=true{pin}", inner);
    }
}

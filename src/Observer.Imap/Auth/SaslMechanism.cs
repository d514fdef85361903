using System.Text;

namespace Observer.Imap;

/// <summary>A SASL mechanism for AUTHENTICATE. Its responses are secrets and are never traced.</summary>
public abstract class SaslMechanism
{
    public abstract string Name { get; }

    /// <summary>The user the mechanism logs in as, for error messages.</summary>
    public abstract string Username { get; }

    /// <summary>The client-first response, sent with SASL-IR or after the server's empty challenge.</summary>
    public abstract byte[] InitialResponse();

    /// <summary>
    /// The reply to a further challenge. The default empty reply is what XOAUTH2 and OAUTHBEARER
    /// expect after the server reports an error as a challenge; the server then fails the command.
    /// </summary>
    public virtual byte[] Respond(byte[] challenge) => [];

    public static SaslMechanism Plain(string username, string password) => new PlainMechanism(username, password);

    public static SaslMechanism XOAuth2(string username, string accessToken) => new XOAuth2Mechanism(username, accessToken);

    public static SaslMechanism OAuthBearer(string username, string accessToken, string host, int port) =>
        new OAuthBearerMechanism(username, accessToken, host, port);

    private sealed class PlainMechanism(string username, string password) : SaslMechanism
    {
        public override string Name => "PLAIN";
        public override string Username => username;

        // RFC 4616: authzid NUL authcid NUL passwd, with an empty authzid.
        public override byte[] InitialResponse() => Encoding.UTF8.GetBytes($"\0{username}\0{password}");
    }

    private sealed class XOAuth2Mechanism(string username, string token) : SaslMechanism
    {
        public override string Name => "XOAUTH2";
        public override string Username => username;

        public override byte[] InitialResponse() => Encoding.UTF8.GetBytes($"user={username}\x01auth=Bearer {token}\x01\x01");
    }

    private sealed class OAuthBearerMechanism(string username, string token, string host, int port) : SaslMechanism
    {
        public override string Name => "OAUTHBEARER";
        public override string Username => username;

        // RFC 7628 §3.1: gs2 header, then key=value pairs separated by ^A.
        public override byte[] InitialResponse() =>
            Encoding.UTF8.GetBytes($"n,a={username.Replace("=", "=3D").Replace(",", "=2C")},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01");
    }
}

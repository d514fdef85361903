namespace Observer.Imap;

/// <summary>Login was refused, or cannot be attempted safely. Retrying will not help.</summary>
public sealed class ImapAuthenticationException : ImapException
{
    public ImapAuthenticationException(string message, ResponseCode? code = null, Exception? inner = null)
        : base(message, inner) => Code = code;

    public ResponseCode? Code { get; }
}

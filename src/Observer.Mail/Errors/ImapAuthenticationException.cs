namespace Observer.Mail;

/// <summary>Login was refused, or cannot be attempted safely. Retrying will not help.</summary>
public sealed class ImapAuthenticationException : ImapException
{
    public ImapAuthenticationException(string message, ResponseCode? code = null, Exception? inner = null, string? serverText = null)
        : base(message, inner)
    {
        Code = code;
        ServerText = serverText;
    }

    public ResponseCode? Code { get; }

    /// <summary>When the server itself refused the credentials: its own words, so a caller can say which server refused.</summary>
    public string? ServerText { get; }
}

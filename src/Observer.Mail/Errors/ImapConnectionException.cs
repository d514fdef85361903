namespace Observer.Mail;

/// <summary>The connection failed or was closed: network error, timeout, server BYE, or an earlier break.</summary>
public sealed class ImapConnectionException : ImapException
{
    public ImapConnectionException(string message, Exception? inner = null) : base(message, inner) { }
}

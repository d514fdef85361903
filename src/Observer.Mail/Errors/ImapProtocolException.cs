namespace Observer.Mail;

/// <summary>
/// The server sent something that does not follow the protocol, or that exceeds a limit.
/// The connection is broken when this is raised: we never try to resynchronise a damaged stream.
/// </summary>
public sealed class ImapProtocolException : ImapException
{
    public ImapProtocolException(string message, Exception? inner = null) : base(message, inner) { }
}

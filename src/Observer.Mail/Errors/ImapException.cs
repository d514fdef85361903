namespace Observer.Mail;

/// <summary>Base of every error the IMAP library raises, so callers can catch one type.</summary>
public abstract class ImapException : Exception
{
    protected ImapException(string message, Exception? inner = null) : base(message, inner) { }
}

namespace Observer.Mail;

/// <summary>
/// Something answered at the host and port, but not as an IMAP server (an SMTP or POP3 banner, for
/// example): the settings point at the wrong service. Retrying will not help.
/// </summary>
public sealed class ImapGreetingException : ImapException
{
    /// <param name="message">A caller that knows which server this is (primary or replica) says so; the default names only the address.</param>
    public ImapGreetingException(string host, int port, string greeting, string? message = null, Exception? inner = null)
        : base(message ?? $"{host}:{port} is not an IMAP server (it greeted with \"{greeting}\")", inner)
    {
        Host = host;
        Port = port;
        Greeting = greeting;
    }

    public string Host { get; }
    public int Port { get; }

    /// <summary>The first line the server sent, made printable and cut short.</summary>
    public string Greeting { get; }
}

namespace Observer.Mail;

/// <summary>A command completed with a tagged NO or BAD. The connection stays usable.</summary>
public class ImapCommandException : ImapException
{
    public ImapCommandException(string command, ResponseCondition condition, ResponseCode? code, string text)
        : base(Describe(command, condition, code, text))
    {
        Command = command;
        Condition = condition;
        Code = code;
        ServerText = text;
    }

    /// <summary>The command verb, for example APPEND (never its arguments, which may hold secrets).</summary>
    public string Command { get; }
    public ResponseCondition Condition { get; }
    public ResponseCode? Code { get; }

    /// <summary>The server's own words, which admins need to see verbatim.</summary>
    public string ServerText { get; }

    private static string Describe(string command, ResponseCondition condition, ResponseCode? code, string text)
    {
        var codePart = code is null ? "" : $"[{code.Name}] ";
        return $"{command} failed: {condition.ToString().ToUpperInvariant()} {codePart}{text}".TrimEnd();
    }
}

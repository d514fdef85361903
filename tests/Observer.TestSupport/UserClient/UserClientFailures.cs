using System.Net.Sockets;
using MailKit;
using MailKit.Security;
using Observer.Mail;
using KitCommandException = MailKit.Net.Imap.ImapCommandException;
using KitCommandResponse = MailKit.Net.Imap.ImapCommandResponse;
using KitProtocolException = MailKit.Net.Imap.ImapProtocolException;

namespace Observer.TestSupport;

/// <summary>
/// MailKit's exceptions in the words tests catch: a refusal (<see cref="ImapCommandException"/>, with the
/// server's response code and text), a refused login (<see cref="ImapAuthenticationException"/>), a broken
/// connection (<see cref="ImapConnectionException"/>) or a malformed answer (<see cref="ImapProtocolException"/>).
/// </summary>
internal static class UserClientFailures
{
    /// <summary>The exception to throw for <paramref name="ex"/>; null when it is not MailKit's or the network's.</summary>
    /// <param name="refusal">The server's tagged NO or BAD to the command, where a refusal's code is; null if none came.</param>
    public static Exception? Translate(string command, Exception ex, string? refusal) => ex switch
    {
        KitCommandException refused => Refusal(command, refused.Response == KitCommandResponse.Bad ? ResponseCondition.Bad : ResponseCondition.No, refusal, refused.ResponseText),
        AuthenticationException login => new ImapAuthenticationException($"login refused: {login.Message}", inner: login, serverText: login.Message),
        FolderNotFoundException missing => new ImapCommandException(command, ResponseCondition.No,
            new ResponseCode(ResponseCodeKind.NonExistent, "NONEXISTENT"), $"folder {missing.FolderName} does not exist"),
        KitProtocolException broken => new ImapProtocolException($"malformed server response during {command}: {broken.Message}", broken),
        IOException or SocketException or TimeoutException or ServiceNotConnectedException or ObjectDisposedException =>
            new ImapConnectionException($"the connection failed during {command}: {ex.Message}", ex),
        _ => null,
    };

    /// <summary>A refusal as the server worded it in <paramref name="line"/> ("A7 NO [NONEXISTENT] Unknown mailbox").</summary>
    public static ImapCommandException Refusal(string command, ResponseCondition condition, string? line, string fallbackText)
    {
        var parts = line?.Split(' ', 3);
        if (parts is not { Length: 3 }) return new ImapCommandException(command, condition, null, fallbackText);
        var rest = parts[2];
        var close = rest.IndexOf(']');
        if (!rest.StartsWith('[') || close < 0) return new ImapCommandException(command, condition, null, rest);
        var inside = rest[1..close];
        var name = inside.Split(' ', 2)[0].ToUpperInvariant();
        // The enum's names are the codes' own without hyphens (NONEXISTENT, ALREADYEXISTS, SERVERBUG…).
        ResponseCode code = Enum.TryParse<ResponseCodeKind>(name.Replace("-", "", StringComparison.Ordinal), ignoreCase: true, out var kind) && kind != ResponseCodeKind.Other
            ? new ResponseCode(kind, name)
            : new OtherResponseCode(name, inside.Length > name.Length ? inside[(name.Length + 1)..] : null);
        return new ImapCommandException(command, condition, code, rest[(close + 1)..].TrimStart());
    }
}

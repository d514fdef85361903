using System.Net.Sockets;
using MailKit;
using Observer.Mail;
using MailKitCommandException = MailKit.Net.Imap.ImapCommandException;
using MailKitProtocolException = MailKit.Net.Imap.ImapProtocolException;
using MailKitCommandResponse = MailKit.Net.Imap.ImapCommandResponse;

namespace Observer.MailKit;

/// <summary>
/// MailKit's exceptions, turned into Observer's one failure taxonomy: a refusal (the connection stays
/// usable, and the engine reads the server's response code), or a broken connection (reconnect).
/// </summary>
internal static class MailKitFailures
{
    /// <summary>Runs one MailKit call as <paramref name="command"/>, translating what it throws.</summary>
    public static async Task<T> RunAsync<T>(string command, string side, ProtocolTraceLogger tap, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception ex) when (Translate(command, side, tap, ex, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    public static Task RunAsync(string command, string side, ProtocolTraceLogger tap, Func<Task> call, CancellationToken cancellationToken) =>
        RunAsync(command, side, tap, async () =>
        {
            await call().ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>Observer's exception for <paramref name="ex"/>; null when it is not MailKit's or the network's to translate.</summary>
    public static Exception? Translate(string command, string side, ProtocolTraceLogger tap, Exception ex, CancellationToken cancellationToken) => ex switch
    {
        MailKitCommandException refused => Refusal(command, refused, tap.LastCompletion),
        FolderNotFoundException missing => new Observer.Mail.ImapCommandException(command, ResponseCondition.No,
            new ResponseCode(ResponseCodeKind.NonExistent, "NONEXISTENT"), $"folder {missing.FolderName} does not exist"),
        MailKitProtocolException nil when IsExpungedWhileRead(command, nil) => new ImapConnectionException(
            $"a message was expunged on the {side} while {command} read it, and its answer (NIL in place of the message) cannot be read by MailKit; the connection was closed and is opened again", ex),
        MailKitProtocolException broken => new Observer.Mail.ImapProtocolException(tap.OversizedLiteralProblem is { } oversized
            ? $"the {side} {oversized} in answer to {command}; the connection was closed"
            : $"malformed server response from the {side} during {command} ({broken.Message}); the connection was closed", broken),
        OperationCanceledException when !cancellationToken.IsCancellationRequested =>
            new ImapConnectionException($"the {side} did not answer {command} in time; the connection was closed", ex),
        TimeoutException => new ImapConnectionException($"the {side} did not answer {command} in time; the connection was closed", ex),
        IOException or SocketException or ServiceNotConnectedException or ObjectDisposedException =>
            new ImapConnectionException($"connection to the {side} lost during {command}: {ex.Message}", ex),
        _ => null,
    };

    /// <summary>
    /// Dovecot answers NIL for the headers of a message another client expunged since this one last heard
    /// (RFC 3501 allows it); MailKit reads bodies that way but not header fields, and drops the connection.
    /// It is a race with a user, not a broken server: it is reported as a lost connection, which it is.
    /// </summary>
    private static bool IsExpungedWhileRead(string command, MailKitProtocolException ex) =>
        command == "FETCH" && ex.Message.Contains("Syntax error in BODY", StringComparison.Ordinal) && ex.Message.Contains("Unexpected token: NIL", StringComparison.Ordinal);

    /// <summary>
    /// A tagged NO or BAD. MailKit keeps the response code to itself, so it is read from the server's
    /// own completion line, which the protocol tap keeps; the text is MailKit's when the line is missing.
    /// </summary>
    private static Observer.Mail.ImapCommandException Refusal(string command, MailKitCommandException refused, string? completion)
    {
        var condition = refused.Response == MailKitCommandResponse.Bad ? ResponseCondition.Bad : ResponseCondition.No;
        var (code, text) = TaggedReply.Parse(completion);
        return new Observer.Mail.ImapCommandException(command, condition, code, text ?? refused.ResponseText);
    }
}

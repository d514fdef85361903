using Observer.Mail;

namespace Observer.Replication;

/// <summary>Questions about a folder that take one command and no selection.</summary>
internal static class MailSessionChecks
{
    /// <summary>Whether the server answers STATUS for <paramref name="folder"/>: only a NO says it is really gone.</summary>
    public static async Task<bool> AnswersStatusAsync(this IMailSession session, string folder, CancellationToken cancellationToken)
    {
        try
        {
            await session.StatusAsync(folder, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ImapCommandException)
        {
            return false;
        }
    }
}

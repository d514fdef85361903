using Observer.Mail;

namespace Observer.Replication;

/// <summary>
/// Both servers' folder lists, read by a one-shot pass as soon as it has logged in, while the state's integrity check
/// still runs: on a state of 100,000 messages the check takes about 50 ms, longer than both logins, and the lists
/// took as long again after it. The pass's first tree sync takes each list once, in place of reading it then; a pass
/// that writes anything before its tree sync (a failover's copy-back) drops them, as they may no longer be true.
/// </summary>
internal sealed class EarlyListing(IReadOnlyList<MailboxWithStatus> primary, IReadOnlyList<MailboxWithStatus> replica)
{
    private IReadOnlyList<MailboxWithStatus>? _primary = primary;
    private IReadOnlyList<MailboxWithStatus>? _replica = replica;

    /// <summary>The side's list the first time it is asked for; null after that, or once dropped.</summary>
    public IReadOnlyList<MailboxWithStatus>? Take(ServerRole role) =>
        role == ServerRole.Primary ? Interlocked.Exchange(ref _primary, null) : Interlocked.Exchange(ref _replica, null);

    public void Drop()
    {
        Interlocked.Exchange(ref _primary, null);
        Interlocked.Exchange(ref _replica, null);
    }

    /// <summary>Both lists, once <paramref name="connecting"/> is up; null if it failed, which its own caller reports.</summary>
    public static async Task<EarlyListing?> ReadAsync(Task<SessionPair> connecting, CancellationToken cancellationToken)
    {
        SessionPair pair;
        try
        {
            pair = await connecting.ConfigureAwait(false);
        }
        catch (Exception)
        {
            return null;
        }
        var primary = pair.Primary.ListAsync(pair.Primary.Features.ListStatus, cancellationToken);
        var replica = pair.Replica.ListAsync(pair.Replica.Features.ListStatus, cancellationToken);
        // Both are waited for even when one fails: no command may still run on a session the caller then closes.
        await Task.WhenAll(primary, replica).ConfigureAwait(false);
        return new EarlyListing(primary.Result, replica.Result);
    }
}

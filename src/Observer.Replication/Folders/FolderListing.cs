using Microsoft.Extensions.Logging;
using Observer.Mail;

namespace Observer.Replication;

/// <summary>Why a folder list might be out of date: names a watcher says exist, or a check that is due anyway.</summary>
internal sealed record ListingDoubt(IReadOnlyCollection<string> ExpectedOnPrimary, bool CheckBoth)
{
    public static readonly ListingDoubt None = new([], false);

    /// <summary>A reconciliation pass, or a folder that vanished under a sync: both lists are read on new connections too.</summary>
    public static readonly ListingDoubt Check = new([], true);
}

/// <summary>
/// Reads a server's folder list, and when in doubt reads it again on a new connection and trusts that.
/// A long-lived Dovecot 2.3 session (mailbox_list_index) was seen to go on listing folders that other
/// clients had renamed away, and not to list their new names, for minutes and until it logged out,
/// while a new connection listed them right. Doubt costs one login; a stale list costs a lost folder.
/// </summary>
internal sealed class FolderListing(SyncContext context)
{
    /// <summary>How long a second look waits for room in the connection budget before the pass goes on with the list it has.</summary>
    private static readonly TimeSpan ListerPatience = TimeSpan.FromSeconds(5);

    public async Task<IReadOnlyList<MailboxWithStatus>> ReadAsync(ServerRole role, ListingDoubt doubt, CancellationToken cancellationToken)
    {
        var session = role == ServerRole.Primary ? context.Primary : context.Replica;
        var withStatus = session.Features.ListStatus;
        var list = context.EarlyListing?.Take(role) ?? await session.ListAsync(withStatus, cancellationToken).ConfigureAwait(false);
        if (context.OpenSession is null) return list;
        var reason = WhyInDoubt(role, list, withStatus, doubt);
        if (reason is null) return list;

        await using var fresh = await context.OpenSession(role, "lister", ListerPatience, cancellationToken).ConfigureAwait(false);
        if (fresh is null)
        {
            var side = role.ToString().ToLowerInvariant();
            if (context.Notices.First($"no-room-to-list/{context.ReplicaId}/{side}"))
                context.Logger.LogInformation("the {Side}'s folder list is in doubt ({Reason}), but Replication:ConnectionBudget has no room for a second look on a new connection; going on with it (raise the budget if this recurs)", side, reason);
            else
                context.Logger.LogDebug("the {Side}'s folder list is in doubt ({Reason}); no room in the connection budget for a second look", side, reason);
            return list;
        }
        var second = await fresh.ListAsync(withStatus, cancellationToken).ConfigureAwait(false);
        var before = list.Select(m => m.Mailbox.Name).ToHashSet(StringComparer.Ordinal);
        var after = second.Select(m => m.Mailbox.Name).ToHashSet(StringComparer.Ordinal);
        if (!before.SetEquals(after))
        {
            var side = role.ToString().ToLowerInvariant();
            var differ = before.Except(after).Concat(after.Except(before)).Count();
            if (context.Notices.First($"stale-list/{context.ReplicaId}/{side}"))
                context.Logger.LogInformation("the {Side}'s folder list on a long-lived connection was behind a new connection's ({Count} folders differ, {Reason}); when in doubt, folder lists are read again on a new connection", side, differ, reason);
            else
                context.Logger.LogDebug("the {Side}'s folder list was behind a new connection's ({Count} folders differ, {Reason})", side, differ, reason);
        }
        else if (withStatus && role == ServerRole.Primary)
        {
            // Listed without status on a new connection too: the server's own oddity, not a stale session.
            foreach (var m in second.Where(m => m.Mailbox.IsSelectable && m.Status is null)) context.Phantoms.Add(m.Mailbox.Name);
        }
        return second;
    }

    private string? WhyInDoubt(ServerRole role, IReadOnlyList<MailboxWithStatus> list, bool withStatus, ListingDoubt doubt)
    {
        if (doubt.CheckBoth) return "a periodic check";
        if (role != ServerRole.Primary) return null;
        // Dovecot answers LIST-STATUS for a folder that no longer exists with "* NO" in place of its STATUS.
        if (withStatus && list.FirstOrDefault(m => m.Mailbox.IsSelectable && m.Status is null && !context.Phantoms.Contains(m.Mailbox.Name)) is { } unanswered)
            return $"{unanswered.Mailbox.Name} listed without status";
        var names = list.Select(m => m.Mailbox.Name).ToHashSet(StringComparer.Ordinal);
        return doubt.ExpectedOnPrimary.FirstOrDefault(n => !names.Contains(n)) is { } missing ? $"{missing} reported by the watcher but not listed" : null;
    }
}

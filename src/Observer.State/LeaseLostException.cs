namespace Observer.State;

/// <summary>
/// This worker no longer holds the lease on an account (it expired while the process was paused or cut off from the
/// database, and another worker may own it now): nothing more is written for it, on the replica or in the journal.
/// </summary>
public sealed class LeaseLostException(string account, string reason)
    : Exception($"this worker's lease on account {(account.Length == 0 ? "(the settings' account)" : account)} is lost ({reason}); it writes nothing more for it until it holds the lease again")
{
    public string Account { get; } = account;
}

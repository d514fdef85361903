namespace Observer.Replication;

/// <summary>
/// The most connections Observer holds open to one server at once, every account together. Servers limit
/// connections per IP and overall (Dovecot's imap process_limit, a hosted server's per-client cap); the
/// scheduler sizes the live and polled accounts to fit, and this is the hard stop behind that sizing: a
/// connection over the budget waits for one to close rather than being refused by the server.
/// </summary>
public sealed class ConnectionBudget(int limit)
{
    private readonly SemaphoreSlim _slots = new(limit, limit);

    public int InUse => limit - _slots.CurrentCount;

    /// <summary>Waits for a free slot; the slot is given back when the lease is disposed (once, however often).</summary>
    public async Task<IDisposable> TakeAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Lease(_slots);
    }

    /// <summary>
    /// A slot free within <paramref name="patience"/>, or null. For connections the work can do without (a
    /// pass's extra folder workers, a second look at a folder list): one that waited without end while its
    /// pass held other slots could wait forever if every pass did the same.
    /// </summary>
    public async Task<IDisposable?> TryTakeAsync(TimeSpan patience, CancellationToken cancellationToken) =>
        await _slots.WaitAsync(patience, cancellationToken).ConfigureAwait(false) ? new Lease(_slots) : null;

    private sealed class Lease(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) slots.Release();
        }
    }
}

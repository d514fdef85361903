namespace Observer.Replication;

/// <summary>
/// The most connections Observer holds open to one server at once, every account together. Servers limit
/// connections per IP and overall (Dovecot's imap process_limit, a hosted server's per-client cap); the
/// scheduler sizes the live and polled accounts to fit, and this is the hard stop behind that sizing: a
/// connection over the budget waits for one to close rather than being refused by the server. Workers sharing
/// a state split the budget, so its limit can change while connections are held (<see cref="Resize"/>).
/// </summary>
public sealed class ConnectionBudget
{
    private readonly SemaphoreSlim _slots;
    private readonly Lock _gate = new();
    private int _limit;

    /// <summary>Slots still held over a lowered limit: given back to nobody when they are released.</summary>
    private int _owed;

    public ConnectionBudget(int limit)
    {
        _limit = limit;
        _slots = new SemaphoreSlim(limit);
    }

    public int Limit
    {
        get { lock (_gate) return _limit; }
    }

    public int InUse
    {
        get { lock (_gate) return _limit - _slots.CurrentCount + _owed; }
    }

    /// <summary>
    /// A new limit. Raised: the new slots are free at once. Lowered: free slots are withdrawn now, and slots in use are
    /// withdrawn as they are given back, so the connections open never rise above the new limit once they have fallen to it.
    /// </summary>
    public void Resize(int limit)
    {
        lock (_gate)
        {
            var change = limit - _limit;
            _limit = limit;
            if (change > 0)
            {
                var forgiven = Math.Min(change, _owed);
                _owed -= forgiven;
                if (change > forgiven) _slots.Release(change - forgiven);
                return;
            }
            for (var i = 0; i < -change; i++)
                if (!_slots.Wait(0)) _owed++;
        }
    }

    private void Give()
    {
        lock (_gate)
        {
            if (_owed > 0) _owed--;
            else _slots.Release();
        }
    }

    /// <summary>Waits for a free slot; the slot is given back when the lease is disposed (once, however often).</summary>
    public async Task<IDisposable> TakeAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Lease(this);
    }

    /// <summary>
    /// A slot free within <paramref name="patience"/>, or null. For connections the work can do without (a
    /// pass's extra folder workers, a second look at a folder list): one that waited without end while its
    /// pass held other slots could wait forever if every pass did the same.
    /// </summary>
    public async Task<IDisposable?> TryTakeAsync(TimeSpan patience, CancellationToken cancellationToken) =>
        await _slots.WaitAsync(patience, cancellationToken).ConfigureAwait(false) ? new Lease(this) : null;

    private sealed class Lease(ConnectionBudget budget) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) budget.Give();
        }
    }
}

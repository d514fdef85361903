using System.Runtime.CompilerServices;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// One copy-back at a time per failover: the old primary and each mirror are engines of their own, run side by side, and
/// two of them holding the same message must not both copy it to the new primary. The second one in finds the first one's
/// copy recorded, and leaves it.
/// </summary>
internal static class CopyBackLock
{
    private static readonly ConditionalWeakTable<StateStore, Dictionary<long, SemaphoreSlim>> Locks = new();

    public static async Task<IDisposable> TakeAsync(StateStore store, long failoverId, CancellationToken cancellationToken)
    {
        var all = Locks.GetOrCreateValue(store);
        SemaphoreSlim gate;
        lock (all)
        {
            if (!all.TryGetValue(failoverId, out gate!)) all[failoverId] = gate = new SemaphoreSlim(1, 1);
        }
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Release(gate);
    }

    private sealed class Release(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) gate.Release();
        }
    }
}

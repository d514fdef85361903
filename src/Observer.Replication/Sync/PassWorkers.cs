namespace Observer.Replication;

/// <summary>
/// The extra connection pairs of one pass, opened all at once and as early as the pass knows it needs
/// them: as soon as both folder lists show how many folders changed, while the tree is still written.
/// Opened one after another and only after the tree sync, the last worker of a 200-change sync began
/// 100 ms into a 420 ms pass. They stay open for the expunges that end the pass.
/// </summary>
internal sealed class PassWorkers(WorkerFactory? open, int most, CancellationToken cancellationToken) : IAsyncDisposable
{
    private readonly List<Task<(SyncContext Context, IAsyncDisposable Connections)?>> _opening = [];

    /// <summary>Starts opening workers until <paramref name="wanted"/> are open or on their way (never more than allowed).</summary>
    public void Want(int wanted)
    {
        if (open is null) return;
        while (_opening.Count < Math.Min(most, wanted)) _opening.Add(open(cancellationToken));
    }

    /// <summary>Each worker's context, as its connections come up (null: no room in the budget); a failure to connect surfaces here.</summary>
    public IEnumerable<Task<SyncContext?>> Contexts => _opening.Select(async o => (await o.ConfigureAwait(false))?.Context);

    public async ValueTask DisposeAsync()
    {
        foreach (var opening in _opening)
        {
            try
            {
                if (await opening.ConfigureAwait(false) is { } worker) await worker.Connections.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
                // It never opened: the failure was reported by whoever waited for it, or the pass failed first.
            }
        }
    }
}

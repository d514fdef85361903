using Observer.State;

namespace Observer.Replication;

/// <summary>
/// While live, a folder that vanished from the primary is deleted on the replica only once it has
/// stayed gone for a while. A folder deleted and at once recreated (a restore, a tool that rebuilds
/// it) then comes back with a new UIDVALIDITY and is re-mapped by MD5, instead of being deleted here
/// and uploaded again. A one-shot pass sees no such gap and deletes at once.
/// A delayed replica's clocks are kept in the state (<see cref="GoneClocks"/>): its delay may be a day,
/// and a restart, or a one-shot sync, must neither start it again nor skip it.
/// </summary>
internal sealed class FolderDeletionDelay(TimeSpan delay, TimeProvider time, GoneClocks? kept = null)
{
    private Dictionary<string, DateTimeOffset>? _loaded;
    private readonly Lock _gate = new();

    private Dictionary<string, DateTimeOffset> Clocks => _loaded ??= kept?.Load() ?? new(StringComparer.Ordinal);

    private void Save(string folder, DateTimeOffset? since) => kept?.Save(folder, since);

    public static FolderDeletionDelay None { get; } = new(TimeSpan.Zero, TimeProvider.System);

    public TimeSpan Delay => delay;

    /// <summary>True once <paramref name="folder"/> has been gone for the whole delay; starts its clock on first sight.</summary>
    public bool IsDue(string folder)
    {
        if (delay <= TimeSpan.Zero) return true;
        var now = time.GetUtcNow();
        lock (_gate)
        {
            if (!Clocks.TryGetValue(folder, out var since))
            {
                Clocks[folder] = since = now;
                Save(folder, now);
            }
            return now - since >= delay;
        }
    }

    /// <summary>Looks at <paramref name="folder"/> again one whole delay from now (the primary still answered for it).</summary>
    public void Restart(string folder)
    {
        if (delay <= TimeSpan.Zero) return;
        var now = time.GetUtcNow();
        lock (_gate) Clocks[folder] = now;
        Save(folder, now);
    }

    /// <summary>Left for later by a sync that ran out of time: due now (or when its delay ends), so the live loop comes back for it.</summary>
    public void Defer(string folder)
    {
        var now = time.GetUtcNow();
        // A delayed replica's clock starts now, like any other first sight: its delay is the point, not a pause to skip.
        var since = kept is null ? now - delay : now;
        lock (_gate)
        {
            if (Clocks.TryAdd(folder, since)) Save(folder, since);
        }
    }

    /// <summary>These folders exist (again) or were dealt with: their clocks stop.</summary>
    public void Forget(IEnumerable<string> folders)
    {
        lock (_gate)
        {
            foreach (var folder in folders)
                if (Clocks.Remove(folder)) Save(folder, null);
        }
    }

    /// <summary>
    /// Keeps the clocks of <paramref name="gone"/> only. A clock left for a folder that is no longer gone
    /// (renamed, back, or dropped from the state another way) would be due for ever and wake the live
    /// loop at once, over and over.
    /// </summary>
    public void Retain(IEnumerable<string> gone)
    {
        var keep = gone.ToHashSet(StringComparer.Ordinal);
        lock (_gate)
        {
            foreach (var folder in Clocks.Keys.Where(f => !keep.Contains(f)).ToList())
            {
                Clocks.Remove(folder);
                Save(folder, null);
            }
        }
    }

    /// <summary>When the earliest waiting deletion falls due, if any waits.</summary>
    public DateTimeOffset? NextDue()
    {
        lock (_gate) return Clocks.Count == 0 ? null : Clocks.Values.Min() + delay;
    }
}

/// <summary>Where a delayed replica keeps its folders' deletion clocks: the state's folder rows.</summary>
internal sealed class GoneClocks(StateStore store, long replicaId)
{
    public Dictionary<string, DateTimeOffset> Load() =>
        store.Folders.All(replicaId).Where(f => f.GoneSince is not null).ToDictionary(f => f.PrimaryName, f => f.GoneSince!.Value, StringComparer.Ordinal);

    public void Save(string folder, DateTimeOffset? since) => store.Folders.SetGoneSince(replicaId, folder, since);
}

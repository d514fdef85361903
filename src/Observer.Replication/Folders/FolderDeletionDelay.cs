namespace Observer.Replication;

/// <summary>
/// While live, a folder that vanished from the primary is deleted on the replica only once it has
/// stayed gone for a while. A folder deleted and at once recreated (a restore, a tool that rebuilds
/// it) then comes back with a new UIDVALIDITY and is re-mapped by MD5, instead of being deleted here
/// and uploaded again. A one-shot pass sees no such gap and deletes at once.
/// </summary>
internal sealed class FolderDeletionDelay(TimeSpan delay, TimeProvider time)
{
    private readonly Dictionary<string, DateTimeOffset> _goneSince = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public static FolderDeletionDelay None { get; } = new(TimeSpan.Zero, TimeProvider.System);

    public TimeSpan Delay => delay;

    /// <summary>True once <paramref name="folder"/> has been gone for the whole delay; starts its clock on first sight.</summary>
    public bool IsDue(string folder)
    {
        if (delay <= TimeSpan.Zero) return true;
        var now = time.GetUtcNow();
        lock (_gate)
        {
            if (!_goneSince.TryGetValue(folder, out var since)) _goneSince[folder] = since = now;
            return now - since >= delay;
        }
    }

    /// <summary>Looks at <paramref name="folder"/> again one whole delay from now (the primary still answered for it).</summary>
    public void Restart(string folder)
    {
        if (delay <= TimeSpan.Zero) return;
        lock (_gate) _goneSince[folder] = time.GetUtcNow();
    }

    /// <summary>Left for later by a sync that ran out of time: due now (or when its delay ends), so the live loop comes back for it.</summary>
    public void Defer(string folder)
    {
        var now = time.GetUtcNow();
        lock (_gate) _goneSince.TryAdd(folder, now - delay);
    }

    /// <summary>These folders exist (again) or were dealt with: their clocks stop.</summary>
    public void Forget(IEnumerable<string> folders)
    {
        lock (_gate)
        {
            foreach (var folder in folders) _goneSince.Remove(folder);
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
            foreach (var folder in _goneSince.Keys.Where(f => !keep.Contains(f)).ToList()) _goneSince.Remove(folder);
        }
    }

    /// <summary>When the earliest waiting deletion falls due, if any waits.</summary>
    public DateTimeOffset? NextDue()
    {
        lock (_gate) return _goneSince.Count == 0 ? null : _goneSince.Values.Min() + delay;
    }
}

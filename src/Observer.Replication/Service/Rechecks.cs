using Microsoft.Extensions.Logging;
using Observer.State;

namespace Observer.Replication;

/// <summary>
/// Folders to look at again because a watcher reported a state (HIGHESTMODSEQ, UIDNEXT) that the
/// sync did not yet see. Dovecot can send a NOTIFY STATUS a moment before another session's view
/// shows the change; without a second look, that change would wait for the next full pass.
/// </summary>
internal sealed class Rechecks(ILogger logger)
{
    private const int MaxAttempts = 8;
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(20);

    private readonly Dictionary<string, (FolderExpectation Expected, int Attempts, DateTimeOffset Due)> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _attempts = new(StringComparer.Ordinal);

    public DateTimeOffset? NextDue() => _pending.Count == 0 ? null : _pending.Values.Min(p => p.Due);

    /// <summary>
    /// Moves the folders whose second look is due into this round's batch. They leave the list: a
    /// sync puts them back through <see cref="Settle"/> if it still finds them behind, so an entry for
    /// a folder that is skipped (waiting in trouble, or gone) cannot stay due for ever.
    /// </summary>
    public void AddDueTo(SignalBatch batch, DateTimeOffset now)
    {
        foreach (var (folder, pending) in _pending.Where(p => p.Value.Due <= now).ToList())
        {
            _pending.Remove(folder);
            _attempts[folder] = pending.Attempts;
            batch.Folders[folder] = batch.Folders.TryGetValue(folder, out var fresh)
                ? fresh.Merge(new FolderChanged(folder, pending.Expected.SeenAt, pending.Expected.ModSeq, pending.Expected.UidNext, pending.Expected.Hints, pending.Expected.Pushed))
                : pending.Expected;
        }
    }

    /// <summary>After a sync: done if it saw what was expected, else look again a little later.</summary>
    public void Settle(string folder, FolderExpectation expected, FolderRecord synced, DateTimeOffset now)
    {
        var previous = _attempts.Remove(folder, out var n) ? n : 0;
        if (!expected.IsAhead(synced))
        {
            _pending.Remove(folder);
            return;
        }
        var attempts = previous + 1;
        if (attempts > MaxAttempts)
        {
            _pending.Remove(folder);
            logger.LogDebug("{Folder}: primary reported modseq {Expected} but still shows {Seen}; leaving it to the next pass", folder, expected.ModSeq, synced.PrimaryModSeq);
            return;
        }
        _pending[folder] = (expected, attempts, now + FirstDelay * (1 << (attempts - 1)));
    }

    public void Clear()
    {
        _pending.Clear();
        _attempts.Clear();
    }
}

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

    public DateTimeOffset? NextDue() => _pending.Count == 0 ? null : _pending.Values.Min(p => p.Due);

    /// <summary>Adds the folders whose second look is due to this round's batch.</summary>
    public void AddDueTo(SignalBatch batch, DateTimeOffset now)
    {
        foreach (var (folder, pending) in _pending.Where(p => p.Value.Due <= now))
        {
            batch.Folders[folder] = batch.Folders.TryGetValue(folder, out var fresh)
                ? fresh.Merge(new FolderChanged(folder, pending.Expected.SeenAt, pending.Expected.ModSeq, pending.Expected.UidNext, pending.Expected.Hints))
                : pending.Expected;
        }
    }

    /// <summary>After a sync: done if it saw what was expected, else look again a little later.</summary>
    public void Settle(string folder, FolderExpectation expected, FolderRecord synced, DateTimeOffset now)
    {
        if (!expected.IsAhead(synced))
        {
            _pending.Remove(folder);
            return;
        }
        var attempts = _pending.TryGetValue(folder, out var previous) ? previous.Attempts + 1 : 1;
        if (attempts > MaxAttempts)
        {
            _pending.Remove(folder);
            logger.LogDebug("{Folder}: primary reported modseq {Expected} but still shows {Seen}; leaving it to the next pass", folder, expected.ModSeq, synced.PrimaryModSeq);
            return;
        }
        _pending[folder] = (expected, attempts, now + FirstDelay * (1 << (attempts - 1)));
    }

    public void Clear() => _pending.Clear();
}

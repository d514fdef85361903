namespace Observer.Replication;

/// <summary>
/// Message sequence numbers to UIDs for a watched folder: EXPUNGE and FETCH name messages by
/// position, the engine by UID. For session implementations; shared by the event reader and the arrival
/// fetch, so locked.
/// </summary>
public sealed class SequenceMap
{
    private readonly List<uint> _uids = [];
    private readonly Lock _gate = new();

    public int Count
    {
        get { lock (_gate) return _uids.Count; }
    }

    public uint HighestUid
    {
        get { lock (_gate) return _uids.Count == 0 ? 0 : _uids[^1]; }
    }

    public void Reset(IEnumerable<uint> uids)
    {
        lock (_gate)
        {
            _uids.Clear();
            _uids.AddRange(uids.Order());
        }
    }

    /// <summary>Adds UIDs above the highest known, in order; others are already known or gone.</summary>
    public void Append(IEnumerable<uint> uids)
    {
        lock (_gate)
        {
            var highest = _uids.Count == 0 ? 0 : _uids[^1];
            _uids.AddRange(uids.Where(u => u > highest).Order());
        }
    }

    public uint? UidAt(uint sequence)
    {
        lock (_gate) return sequence >= 1 && sequence <= _uids.Count ? _uids[(int)sequence - 1] : null;
    }

    /// <summary>Removes the message at <paramref name="sequence"/>; null if the map does not know it.</summary>
    public uint? Expunge(uint sequence)
    {
        lock (_gate)
        {
            if (sequence < 1 || sequence > _uids.Count) return null;
            var uid = _uids[(int)sequence - 1];
            _uids.RemoveAt((int)sequence - 1);
            return uid;
        }
    }

    public void Remove(IEnumerable<uint> uids)
    {
        var gone = uids.ToHashSet();
        lock (_gate) _uids.RemoveAll(gone.Contains);
    }
}

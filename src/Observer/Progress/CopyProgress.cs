using System.Diagnostics.Metrics;
using Observer.Replication;

namespace Observer.Progress;

/// <summary>
/// How far each folder's copy has come, in this process: listens to the engine's meter (<see cref="ReplicationMetrics"/>)
/// for the messages a copy set out to append and those that landed, with their bytes.
/// </summary>
public sealed class CopyProgress : IDisposable
{
    /// <summary>One folder's copy: what it set out to do, what is done, since when.</summary>
    public sealed record FolderCopy(string Account, string Replica, string Folder, long Total, long Left, long Copied, long Bytes, DateTimeOffset Started)
    {
        public bool Done => Left <= 0;

        public string Label => Account.Length > 0 ? $"{Account} {Folder}" : Folder;
    }

    private readonly Lock _gate = new();
    private readonly Dictionary<(string Account, string Replica, string Folder), FolderCopy> _folders = [];
    private readonly MeterListener _listener = new();
    private readonly TimeProvider _time;

    public CopyProgress(TimeProvider time)
    {
        _time = time;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ReplicationMetrics.MeterName && instrument.Name is "observer.copy.queued" or "observer.messages.copied" or "observer.bytes.copied")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    public IReadOnlyList<FolderCopy> Folders
    {
        get
        {
            lock (_gate) return _folders.Values.ToList();
        }
    }

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        string account = "", replica = "", folder = "";
        foreach (var tag in tags)
        {
            if (tag.Key == "account") account = tag.Value as string ?? "";
            else if (tag.Key == "replica") replica = tag.Value as string ?? "";
            else if (tag.Key == "folder") folder = tag.Value as string ?? "";
        }
        lock (_gate)
        {
            var key = (account, replica, folder);
            var copy = _folders.GetValueOrDefault(key);
            // A folder copied again starts its count afresh once the last copy is done.
            if (copy is null || (copy.Done && instrument.Name == "observer.copy.queued" && value > 0))
                copy = new FolderCopy(account, replica, folder, 0, 0, 0, 0, _time.GetUtcNow());
            _folders[key] = instrument.Name switch
            {
                "observer.copy.queued" when value > 0 => copy with { Total = copy.Total + value, Left = copy.Left + value },
                "observer.copy.queued" => copy with { Left = copy.Left + value },
                "observer.messages.copied" => copy with { Copied = copy.Copied + value },
                _ => copy with { Bytes = copy.Bytes + value },
            };
        }
    }

    public void Dispose() => _listener.Dispose();
}

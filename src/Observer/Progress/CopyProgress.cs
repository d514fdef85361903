using System.Diagnostics.Metrics;
using Observer.Replication;

namespace Observer.Progress;

/// <summary>
/// How far each folder's copy (or comparison) has come, in this process: listens to the engine's meter
/// (<see cref="ReplicationMetrics"/>) for the messages a copy set out to append and those that landed, with their bytes,
/// and likewise for the messages a comparison reads on both servers.
/// </summary>
public sealed class CopyProgress : IDisposable
{
    /// <summary>One folder's copy: what it set out to do, what is done, since when.</summary>
    public sealed record FolderCopy(bool Comparing, string Account, string Replica, string Folder, long Total, long Left, long Copied, long Bytes, DateTimeOffset Started)
    {
        public bool Done => Left <= 0;

        public string Label => (Comparing ? "compare " : "") + (Account.Length > 0 ? $"{Account} {Folder}" : Folder);
    }

    private static readonly Dictionary<string, (bool Comparing, string Measure)> Instruments = new(StringComparer.Ordinal)
    {
        ["observer.copy.queued"] = (false, "queued"),
        ["observer.messages.copied"] = (false, "messages"),
        ["observer.bytes.copied"] = (false, "bytes"),
        ["observer.verify.queued"] = (true, "queued"),
        ["observer.messages.verified"] = (true, "messages"),
        ["observer.bytes.verified"] = (true, "bytes"),
    };

    private readonly Lock _gate = new();
    private readonly Dictionary<(bool Comparing, string Account, string Replica, string Folder), FolderCopy> _folders = [];
    private readonly MeterListener _listener = new();
    private readonly TimeProvider _time;

    public CopyProgress(TimeProvider time)
    {
        _time = time;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ReplicationMetrics.MeterName && Instruments.ContainsKey(instrument.Name)) listener.EnableMeasurementEvents(instrument);
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
        var (comparing, measure) = Instruments[instrument.Name];
        lock (_gate)
        {
            var key = (comparing, account, replica, folder);
            var copy = _folders.GetValueOrDefault(key);
            // A folder copied again starts its count afresh once the last copy is done.
            if (copy is null || (copy.Done && measure == "queued" && value > 0))
                copy = new FolderCopy(comparing, account, replica, folder, 0, 0, 0, 0, _time.GetUtcNow());
            _folders[key] = measure switch
            {
                "queued" when value > 0 => copy with { Total = copy.Total + value, Left = copy.Left + value },
                "queued" => copy with { Left = copy.Left + value },
                "messages" => copy with { Copied = copy.Copied + value },
                _ => copy with { Bytes = copy.Bytes + value },
            };
        }
    }

    public void Dispose() => _listener.Dispose();
}

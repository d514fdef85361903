using System.Diagnostics.Metrics;
using Observer.Replication;
using Prometheus;

namespace Observer.Monitoring;

/// <summary>
/// /metrics in Prometheus' text format, through prometheus-net. Counters come from the engine's .NET meter
/// (<see cref="ReplicationMetrics"/>) and live as long as the process; gauges are read from the state at each
/// scrape, so they say what `observer status` says, and a folder or account that is gone leaves no stale series.
/// </summary>
public sealed class MetricsExporter : IDisposable
{
    private static readonly string[] UnitLabels = ["account", "replica"];

    private readonly CollectorRegistry _counters;
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, Counter> _byInstrument;

    public MetricsExporter()
    {
        // prometheus-net's own process and .NET metrics would listen to every meter of the process: only ours are wanted.
        Metrics.SuppressDefaultMetrics();
        _counters = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(_counters);
        _byInstrument = new Dictionary<string, Counter>(StringComparer.Ordinal)
        {
            ["observer.messages.copied"] = factory.CreateCounter("observer_messages_copied_total", "Messages appended to the replica.", UnitLabels),
            ["observer.bytes.copied"] = factory.CreateCounter("observer_bytes_copied_total", "Bytes of messages appended to the replica.", UnitLabels),
            ["observer.writes"] = factory.CreateCounter("observer_writes_total", "Writes to the replica, by kind (append, flags, move, expunge, extra, create, rename, delete).", [.. UnitLabels, "kind"]),
            ["observer.errors"] = factory.CreateCounter("observer_errors_total", "Replication errors, by kind (folder, connection, other).", [.. UnitLabels, "kind"]),
        };
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ReplicationMetrics.MeterName && _byInstrument.ContainsKey(instrument.Name)) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        var counter = _byInstrument[instrument.Name];
        var labels = new string[counter.LabelNames.Length];
        foreach (var tag in tags)
        {
            var index = Array.IndexOf(counter.LabelNames, tag.Key);
            if (index >= 0) labels[index] = tag.Value?.ToString() ?? "";
        }
        for (var i = 0; i < labels.Length; i++) labels[i] ??= "";
        counter.WithLabels(labels).Inc(value);
    }

    /// <summary>Writes every metric: the counters, then the gauges of <paramref name="snapshot"/> (none without a state yet).</summary>
    public async Task WriteAsync(StatusSnapshot? snapshot, Stream output, CancellationToken cancellationToken)
    {
        await _counters.CollectAndExportAsTextAsync(output, cancellationToken).ConfigureAwait(false);
        if (snapshot is null) return;
        var gauges = Metrics.NewCustomRegistry();
        StateGauges.Fill(Metrics.WithCustomRegistry(gauges), snapshot);
        await gauges.CollectAndExportAsTextAsync(output, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _listener.Dispose();
}

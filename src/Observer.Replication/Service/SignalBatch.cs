using System.Threading.Channels;

namespace Observer.Replication;

/// <summary>The signals waiting at one moment, coalesced: each folder once, with its earliest change.</summary>
internal sealed class SignalBatch
{
    public Dictionary<string, DateTimeOffset> Folders { get; } = new(StringComparer.Ordinal);
    public List<(string Old, string New)> Renames { get; } = [];
    public bool TreeChanged { get; private set; }
    public string? ResyncReason { get; private set; }

    public bool IsEmpty => Folders.Count == 0 && !TreeChanged && ResyncReason is null;

    public static SignalBatch Drain(ChannelReader<ChangeSignal> reader)
    {
        var batch = new SignalBatch();
        while (reader.TryRead(out var signal)) batch.Add(signal);
        return batch;
    }

    public void Add(ChangeSignal signal)
    {
        switch (signal)
        {
            case FolderChanged f:
                if (!Folders.TryGetValue(f.Folder, out var seen) || f.SeenAt < seen) Folders[f.Folder] = f.SeenAt;
                break;
            case TreeChanged t:
                TreeChanged = true;
                if (t.OldName is { } old && t.NewName is { } name) Renames.Add((old, name));
                break;
            case ResyncAll r:
                ResyncReason ??= r.Reason;
                break;
        }
    }
}

using System.Threading.Channels;
using Observer.Mail;
using Observer.State;

namespace Observer.Replication;

/// <summary>The signals waiting at one moment, coalesced: each folder once, with its earliest change.</summary>
internal sealed class SignalBatch
{
    public Dictionary<string, FolderExpectation> Folders { get; } = new(StringComparer.Ordinal);
    public List<(string Old, string New)> Renames { get; } = [];

    /// <summary>Folders a watcher saw created or renamed to: a folder list without them is out of date.</summary>
    public HashSet<string> Appeared { get; } = new(StringComparer.Ordinal);
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
                Folders[f.Folder] = Folders.TryGetValue(f.Folder, out var seen) ? seen.Merge(f) : FolderExpectation.From(f);
                break;
            case TreeChanged t:
                TreeChanged = true;
                if (t.OldName is { } old && t.NewName is { } name) Renames.Add((old, name));
                if (t.Opens && t.NewName is { } appeared) Appeared.Add(appeared);
                if (t.OldName is { } renamedAway) Appeared.Remove(renamedAway);
                break;
            case ResyncAll r:
                ResyncReason ??= r.Reason;
                break;
        }
    }

    /// <summary>
    /// Adds the folders whose status in a fresh folder list differs from their checkpoint: changes no watcher
    /// reported (a NOTIFY session gone deaf, a poll on a stale list). Returns them.
    /// </summary>
    public List<string> AddUnreported(IEnumerable<FolderRecord> folders, IReadOnlyDictionary<string, MailboxStatus> listed, DateTimeOffset now)
    {
        var unreported = new List<string>();
        foreach (var folder in folders)
        {
            if (Folders.ContainsKey(folder.PrimaryName) || !listed.TryGetValue(folder.PrimaryName, out var status) || !PrimaryCheckpoint.Moved(folder, status)) continue;
            Folders[folder.PrimaryName] = new FolderExpectation(now, status.HighestModSeq, status.UidNext, null, Witnessed: false);
            unreported.Add(folder.PrimaryName);
        }
        return unreported;
    }
}

/// <summary>
/// The earliest change seen in a folder, the highest state a watcher reported for it, and the hints
/// of what changed (null as soon as one signal did not know). <see cref="Witnessed"/> is false for a change
/// that no watcher reported but a look at the folder list found: the delete guard weighs it as in any pass.
/// </summary>
internal sealed record FolderExpectation(DateTimeOffset SeenAt, ulong? ModSeq, uint? UidNext, ChangeHints? Hints, bool Pushed = false, bool Witnessed = true)
{
    public static FolderExpectation From(FolderChanged f) => new(f.SeenAt, f.ModSeq, f.UidNext, f.Hints, f.Pushed);

    public FolderExpectation Merge(FolderChanged f) => new(
        f.SeenAt < SeenAt ? f.SeenAt : SeenAt,
        Max(ModSeq, f.ModSeq),
        UidNext is null ? f.UidNext : f.UidNext is null ? UidNext : Math.Max(UidNext.Value, f.UidNext.Value),
        Hints is null || f.Hints is null ? null : Hints.Merge(f.Hints),
        Pushed || f.Pushed,
        Witnessed: true);

    public static FolderExpectation Now(DateTimeOffset at) => new(at, null, null, null);

    /// <summary>True when a sync that left <paramref name="folder"/> at its checkpoint has not yet seen what the watcher saw.</summary>
    public bool IsAhead(FolderRecord folder) =>
        (ModSeq is { } m && folder.PrimaryModSeq is { } c && m > c) || (UidNext is { } u && folder.PrimaryUidNext is { } n && u > n);

    private static ulong? Max(ulong? a, ulong? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);
}

using System.Diagnostics;
using System.Globalization;

namespace Observer.TestSupport;

/// <summary>
/// Every change the scenario makes (mutations, faults, probes), numbered in the order they finished,
/// so that a failure can show the seed and what happened last. Keeps the most recent entries only.
/// </summary>
public sealed class MutationLog(int keep = 500)
{
    private readonly Queue<string> _recent = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _lock = new();
    private int _sequence;

    public int Count
    {
        get { lock (_lock) return _sequence; }
    }

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Records one line as "#seq +seconds who: text" and returns its sequence number.</summary>
    public int Record(string who, string text)
    {
        lock (_lock)
        {
            var n = ++_sequence;
            _recent.Enqueue(string.Create(CultureInfo.InvariantCulture, $"#{n} +{_clock.Elapsed.TotalSeconds:0.0}s {who}: {text}"));
            while (_recent.Count > keep) _recent.Dequeue();
            return n;
        }
    }

    /// <summary>Every folder path the scenario created or renamed a folder to, from the lines it kept.</summary>
    public IReadOnlyList<string> FolderPaths()
    {
        var paths = new List<string>();
        foreach (var line in Last(int.MaxValue))
        {
            var colon = line.IndexOf(": ", StringComparison.Ordinal);
            if (colon < 0) continue;
            var text = line[(colon + 2)..];
            if (text.StartsWith("create ", StringComparison.Ordinal)) paths.Add(text["create ".Length..]);
            else if (text.StartsWith("rename ", StringComparison.Ordinal) && text.LastIndexOf(" to ", StringComparison.Ordinal) is var to and > 0) paths.Add(text[(to + 4)..]);
        }
        return paths;
    }

    public IReadOnlyList<string> Last(int count)
    {
        lock (_lock) return _recent.Skip(Math.Max(0, _recent.Count - count)).ToList();
    }
}

namespace Observer.TestSupport;

/// <summary>Finds a stack trace in a process's stderr, so a failing test shows that part and not the whole log.</summary>
public static class StackTraces
{
    /// <summary>The lines around the first stack frame or unhandled-exception banner, or null when there is none.</summary>
    public static string? Find(string errors)
    {
        var lines = errors.Split('\n');
        var hit = Array.FindIndex(lines, l => l.StartsWith("   at ", StringComparison.Ordinal) || l.Contains("      at ", StringComparison.Ordinal) || l.Contains("Unhandled", StringComparison.Ordinal));
        if (hit < 0) return null;
        var from = Math.Max(0, hit - 8);
        return string.Join('\n', lines[from..Math.Min(lines.Length, hit + 12)]);
    }

    /// <summary>The last lines of a log: where a shutdown went wrong.</summary>
    public static string Tail(string errors, int lines = 15) => string.Join('\n', errors.TrimEnd().Split('\n').TakeLast(lines));
}

using System.Globalization;

namespace Observer.Progress;

/// <summary>The numbers a progress line or display shows: totals over folders, rate and time left.</summary>
public sealed record ProgressFigures(long Total, long Copied, long Bytes, TimeSpan Elapsed)
{
    public static ProgressFigures Of(IEnumerable<CopyProgress.FolderCopy> folders, DateTimeOffset now)
    {
        var list = folders.ToList();
        if (list.Count == 0) return new(0, 0, 0, TimeSpan.Zero);
        return new(list.Sum(f => f.Total), list.Sum(f => f.Copied), list.Sum(f => f.Bytes), now - list.Min(f => f.Started));
    }

    public double Rate => Elapsed.TotalSeconds > 0.5 ? Copied / Elapsed.TotalSeconds : 0;

    /// <summary>Null until there is a rate to go by.</summary>
    public TimeSpan? Left => Rate > 0 ? TimeSpan.FromSeconds(Math.Max(0, Total - Copied) / Rate) : null;

    public string Describe() =>
        $"{Copied.ToString("N0", CultureInfo.InvariantCulture)} of {Total.ToString("N0", CultureInfo.InvariantCulture)} messages ({Size(Bytes)}), " +
        $"{Rate:0} messages/s, {(Left is { } left ? $"about {Duration(left)} left" : "time left not known yet")}";

    public static string Size(long bytes) =>
        bytes < 1024 ? $"{bytes} bytes" : bytes < 1024 * 1024 ? $"{bytes / 1024.0:0.#} KB" : bytes < 1L << 30 ? $"{bytes / (1024.0 * 1024):0.#} MB" : $"{bytes / (1024.0 * 1024 * 1024):0.##} GB";

    public static string Duration(TimeSpan span) =>
        span < TimeSpan.FromMinutes(1) ? $"{span.TotalSeconds:0} s" : span < TimeSpan.FromHours(1) ? $"{(int)span.TotalMinutes} min {span.Seconds} s" : $"{(int)span.TotalHours} h {span.Minutes} min";
}

using Microsoft.Extensions.Logging;

namespace Observer.Progress;

/// <summary>
/// Without a terminal (the journal, CI): a progress line every 10 s while a copy is under way, and none otherwise, so a
/// quiet service writes nothing and a first copy of a large mailbox says how far it is.
/// </summary>
public sealed class ProgressLog : IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly CopyProgress _progress;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private long _lastCopied = -1;

    public ProgressLog(CopyProgress progress, ILogger logger, TimeProvider time)
    {
        (_progress, _logger, _time) = (progress, logger, time);
        _timer = time.CreateTimer(_ => Report(), null, Interval, Interval);
    }

    private void Report()
    {
        var folders = _progress.Folders;
        var busy = folders.Where(f => !f.Done).ToList();
        var copied = folders.Sum(f => f.Copied);
        if (busy.Count == 0 || copied == _lastCopied && busy.All(f => f.Copied == 0)) return;
        _lastCopied = copied;
        // Totals over the copies under way and those done since the first of them began.
        var since = busy.Min(f => f.Started);
        var figures = ProgressFigures.Of(folders.Where(f => f.Started >= since || !f.Done), _time.GetUtcNow());
        var now = string.Join(", ", busy.OrderByDescending(f => f.Left).Take(3).Select(f => $"{f.Label} {f.Copied:N0}/{f.Total:N0}"));
        _logger.LogInformation("copying: {Progress}; now in {Folders}{More}", figures.Describe(), now, busy.Count > 3 ? $" and {busy.Count - 3} more folders" : "");
    }

    public async ValueTask DisposeAsync() => await _timer.DisposeAsync();
}

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
    private readonly Dictionary<bool, long> _lastDone = new() { [false] = -1, [true] = -1 };

    public ProgressLog(CopyProgress progress, ILogger logger, TimeProvider time)
    {
        (_progress, _logger, _time) = (progress, logger, time);
        _timer = time.CreateTimer(_ => Report(), null, Interval, Interval);
    }

    private void Report()
    {
        foreach (var comparing in new[] { false, true })
        {
            var folders = _progress.Folders.Where(f => f.Comparing == comparing).ToList();
            var busy = folders.Where(f => !f.Done).ToList();
            var done = folders.Sum(f => f.Copied);
            if (busy.Count == 0 || (done == _lastDone[comparing] && busy.All(f => f.Copied == 0))) continue;
            _lastDone[comparing] = done;
            // Totals over the work under way and what was done since the first of it began.
            var since = busy.Min(f => f.Started);
            var figures = ProgressFigures.Of(folders.Where(f => f.Started >= since || !f.Done), _time.GetUtcNow());
            var now = string.Join(", ", busy.OrderByDescending(f => f.Left).Take(3).Select(f => $"{f.Label} {f.Copied:N0}/{f.Total:N0}"));
            _logger.LogInformation("{Doing}: {Progress}; now in {Folders}{More}", comparing ? "comparing (read on both servers)" : "copying", figures.Describe(), now,
                busy.Count > 3 ? $" and {busy.Count - 3} more folders" : "");
        }
    }

    public async ValueTask DisposeAsync() => await _timer.DisposeAsync();
}

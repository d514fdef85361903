using Spectre.Console;

namespace Observer.Progress;

/// <summary>
/// On a terminal: a live display on stderr of each folder's copy and the total, with messages, bytes, rate and time
/// left (Spectre.Console's progress display). Folders done leave it; it ends when the command does.
/// </summary>
public sealed class ProgressDisplay : IAsyncDisposable
{
    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(250);

    private readonly CopyProgress _progress;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;

    public ProgressDisplay(CopyProgress progress, TimeProvider time)
    {
        (_progress, _time) = (progress, time);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        _running = console.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn())
            .StartAsync(ShowAsync);
    }

    /// <summary>Whether the user watches: stderr is a terminal.</summary>
    public static bool Wanted => !Console.IsErrorRedirected;

    private async Task ShowAsync(ProgressContext context)
    {
        var tasks = new Dictionary<(bool, string, string, string), ProgressTask>();
        ProgressTask? total = null;
        while (!_stop.IsCancellationRequested)
        {
            var folders = _progress.Folders;
            var now = _time.GetUtcNow();
            if (folders.Count > 0)
            {
                total ??= context.AddTask("total", maxValue: 1);
                var busy = folders.Where(f => !f.Done).ToList();
                var figures = ProgressFigures.Of(folders, now);
                total.MaxValue = Math.Max(1, figures.Total);
                total.Value = figures.Copied;
                total.Description = Markup.Escape(Line("total", figures));
                foreach (var folder in folders)
                {
                    var key = (folder.Comparing, folder.Account, folder.Replica, folder.Folder);
                    if (!tasks.TryGetValue(key, out var task))
                    {
                        if (folder.Done) continue;
                        tasks[key] = task = context.AddTask(Markup.Escape(folder.Label), maxValue: Math.Max(1, folder.Total));
                    }
                    task.MaxValue = Math.Max(1, folder.Total);
                    task.Value = folder.Copied;
                    var rate = ProgressFigures.Of([folder], now);
                    task.Description = Markup.Escape(Line(folder.Label, rate));
                    if (folder.Done) task.StopTask();
                }
            }
            try
            {
                await Task.Delay(Refresh, _time, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One row's words, with the time left as its own rate says (the bar and the percentage are columns of their own).</summary>
    private static string Line(string label, ProgressFigures figures) =>
        $"{(label.Length > 24 ? label[..23] + "~" : label),-24} {figures.Copied,7:N0}/{figures.Total:N0} msgs {ProgressFigures.Size(figures.Bytes),9} {figures.Rate,5:0}/s " +
        $"{(figures.Left is { } left ? ProgressFigures.Duration(left) + " left" : ""),-12}";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running;
        _stop.Dispose();
    }
}

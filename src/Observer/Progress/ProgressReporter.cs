using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Observer.Cli;

namespace Observer.Progress;

/// <summary>Progress of the copies this process makes: a live display on a terminal, a line every 10 s otherwise.</summary>
public sealed class ProgressReporter : IAsyncDisposable
{
    private readonly CopyProgress _progress;
    private readonly IAsyncDisposable _shown;

    private ProgressReporter(CopyProgress progress, IAsyncDisposable shown) => (_progress, _shown) = (progress, shown);

    public static ProgressReporter Start(bool terminal, ILogger logger, TimeProvider time)
    {
        var progress = new CopyProgress(time);
        return new ProgressReporter(progress, terminal ? new ProgressDisplay(progress, time) : new ProgressLog(progress, logger, time));
    }

    /// <summary>The commands that copy or compare for long: on a terminal they show the live display, and their console logs only warnings.</summary>
    public static bool Displays(CommandLineArguments arguments) =>
        ProgressDisplay.Wanted && arguments.Verb is Verb.Sync or Verb.Verify or Verb.Drain or Verb.Promote or Verb.Restore;

    public async ValueTask DisposeAsync()
    {
        await _shown.DisposeAsync();
        _progress.Dispose();
    }
}

/// <summary>`observer run`: progress lines in the log while a copy is under way (a first copy, a burst of mail).</summary>
public sealed class ProgressLogging(ILogger<ProgressLogging> logger, TimeProvider time) : IHostedService
{
    private ProgressReporter? _reporter;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _reporter = ProgressReporter.Start(terminal: false, logger, time);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_reporter is not null) await _reporter.DisposeAsync();
    }
}

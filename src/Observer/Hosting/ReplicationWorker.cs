using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Observer.Replication;

namespace Observer.Hosting;

/// <summary>`observer run` as a hosted service: replicate until the host is told to stop.</summary>
public sealed class ReplicationWorker(ReplicationEngine engine, IHostApplicationLifetime lifetime, ILogger<ReplicationWorker> logger) : BackgroundService
{
    /// <summary>Set when replication stopped on an error no retry can fix (a refused login, a bad certificate).</summary>
    public string? FatalError { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await engine.RunAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopped on request.
        }
        catch (Exception ex) when (ObserverErrors.IsUserFacing(ex))
        {
            FatalError = ex.Message;
            logger.LogCritical("replication stopped: {Reason}", ex.Message);
            lifetime.StopApplication();
        }
        catch (Exception ex)
        {
            // A bug, not a user's mistake: still one line (the host would print a stack trace), and a non-zero exit.
            FatalError = ex.Message;
            logger.LogCritical("replication stopped by an unexpected error: {Type}: {Reason}", ex.GetType().Name, ex.Message.ReplaceLineEndings(" "));
            lifetime.StopApplication();
        }
    }
}

using Microsoft.Extensions.Logging;

namespace Observer.Replication;

/// <summary>
/// Writes the service's heartbeat on a timer for as long as the engine runs. The engine's own loop
/// cannot: one long step (the first copy of a large folder) holds it for minutes, and `observer status`
/// would call a busy service dead.
/// </summary>
internal sealed class ServiceHeartbeat : IDisposable
{
    private readonly Action _beat;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly ITimer _timer;
    private bool _stopped;
    private bool _failing;

    public ServiceHeartbeat(TimeProvider time, TimeSpan interval, Action beat, ILogger logger)
    {
        _beat = beat;
        _logger = logger;
        _timer = time.CreateTimer(_ => Beat(), null, TimeSpan.Zero, interval);
    }

    private void Beat()
    {
        lock (_gate)
        {
            if (_stopped) return;
            try
            {
                _beat();
                _failing = false;
            }
            catch (Exception ex)
            {
                // An exception would end the process from a timer thread; a missed heartbeat only makes status look stale.
                if (!_failing) _logger.LogWarning("cannot record the service heartbeat: {Reason}", ex.Message);
                _failing = true;
            }
        }
    }

    /// <summary>Stops the beats; none is written after this returns, so the engine's final record stays the last word.</summary>
    public void Dispose()
    {
        lock (_gate) _stopped = true;
        _timer.Dispose();
    }
}

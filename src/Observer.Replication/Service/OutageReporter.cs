using Microsoft.Extensions.Logging;

namespace Observer.Replication;

/// <summary>
/// Reports each server's availability: one warning when it goes away, Debug lines while retrying,
/// one line when it is back. A server down for an hour costs three log lines, not thousands.
/// </summary>
internal sealed partial class OutageReporter(ILogger logger, TimeProvider time)
{
    private readonly Dictionary<ServerRole, (DateTimeOffset Since, string Reason)> _down = [];
    private readonly HashSet<ServerRole> _reached = [];
    private readonly Lock _gate = new();

    public string State(ServerRole role)
    {
        lock (_gate)
        {
            if (_down.TryGetValue(role, out var d)) return $"unavailable since {d.Since:u}: {d.Reason}";
            // Before the first connection there is nothing to vouch for: the heartbeat runs from the start.
            return _reached.Contains(role) ? "connected" : "connecting";
        }
    }

    public async Task<T> TrackAsync<T>(ServerRole role, Func<Task<T>> connect)
    {
        try
        {
            var result = await connect().ConfigureAwait(false);
            Up(role);
            return result;
        }
        catch (Exception ex) when (ReconnectPolicy.IsTransient(ex))
        {
            Down(role, ex.Message);
            throw;
        }
    }

    public void Down(ServerRole role, string reason)
    {
        lock (_gate)
        {
            if (_down.ContainsKey(role))
            {
                LogStillDown(logger, Name(role), reason);
                return;
            }
            _down[role] = (time.GetUtcNow(), reason);
        }
        LogDown(logger, Name(role), reason);
    }

    public void Up(ServerRole role)
    {
        DateTimeOffset since;
        lock (_gate)
        {
            _reached.Add(role);
            if (!_down.Remove(role, out var d)) return;
            since = d.Since;
        }
        LogUp(logger, Name(role), (time.GetUtcNow() - since).TotalSeconds);
    }

    private static string Name(ServerRole role) => role == ServerRole.Primary ? "primary" : "replica";

    [LoggerMessage(EventId = 2040, Level = LogLevel.Warning, Message = "{Role} unavailable: {Reason}; retrying with backoff")]
    private static partial void LogDown(ILogger logger, string role, string reason);

    [LoggerMessage(EventId = 2041, Level = LogLevel.Debug, Message = "{Role} still unavailable: {Reason}")]
    private static partial void LogStillDown(ILogger logger, string role, string reason);

    [LoggerMessage(EventId = 2042, Level = LogLevel.Information, Message = "{Role} reachable again after {Seconds:0} s")]
    private static partial void LogUp(ILogger logger, string role, double seconds);
}

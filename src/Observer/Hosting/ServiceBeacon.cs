using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Observer.Hosting;

/// <summary>
/// `observer run` says it is alive in "&lt;state&gt;.service" (its pid, rewritten every few seconds, removed when it stops):
/// the one sign of a running service when every account is polled and none writes a heartbeat of its own. The lock
/// file cannot serve: it cannot even be read while it is held.
/// </summary>
public sealed class ServiceBeacon(string statePath, TimeProvider time, ILogger<ServiceBeacon> logger) : IHostedService, IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    /// <summary>A beacon this much older than its interval belongs to a service that is gone or stuck.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(30);

    private ITimer? _timer;
    private bool _failing;

    public static string PathFor(string statePath) => statePath + ".service";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _timer = time.CreateTimer(_ => Beat(), null, TimeSpan.Zero, Interval);
        return Task.CompletedTask;
    }

    private void Beat()
    {
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var file = new StreamWriter(PathFor(statePath), options)) file.Write(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            _failing = false;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Only status's view of a service whose accounts are all polled depends on it.
            if (!_failing) logger.LogWarning("cannot write {Path}: {Reason}", PathFor(statePath), ex.Message);
            _failing = true;
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await DisposeAsync();
        try
        {
            File.Delete(PathFor(statePath));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Stale within StaleAfter all the same.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_timer is not null) await _timer.DisposeAsync();
        _timer = null;
    }

    /// <summary>Whether a service wrote its beacon within <see cref="StaleAfter"/> and its process is alive.</summary>
    public static bool Fresh(string statePath, DateTimeOffset now)
    {
        try
        {
            var path = PathFor(statePath);
            if (!File.Exists(path) || now - File.GetLastWriteTimeUtc(path) > StaleAfter) return false;
            return int.TryParse(File.ReadAllText(path).Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid)
                   && Monitoring.StatusHealth.IsAlive(pid);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}

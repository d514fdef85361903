using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Observer.Cli;
using Observer.Configuration;

namespace Observer.Hosting;

/// <summary>
/// Reads the settings again while `observer run` replicates several accounts: on SIGHUP (systemctl reload), and
/// when the settings file or the AccountsFile changes. Settings that do not pass are logged in one line and every
/// account runs on as before; only the accounts are reloaded, the other sections take effect at a restart.
/// </summary>
public sealed class SettingsReloader(CommandLineArguments arguments, string? settingsFile, TimeProvider time, ILogger<SettingsReloader> logger)
{
    /// <summary>How often the files are looked at: an edit reaches the service within this.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(2);

    /// <summary>The settings of the last accepted reload; null until one. The status page and /metrics show their accounts.</summary>
    public ObserverOptions? Current { get; private set; }

    /// <summary>Hands each accepted reload's accounts to <paramref name="apply"/>, until <paramref name="stopping"/>.</summary>
    public async Task WatchAsync(ObserverOptions current, Func<IReadOnlyList<AccountOptions>, Task> apply, CancellationToken stopping)
    {
        var hangup = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            // Left alone, SIGHUP would end the process.
            context.Cancel = true;
            Volatile.Read(ref hangup).TrySetResult();
        });
        var seen = Stamps(current.AccountsFile);
        while (!stopping.IsCancellationRequested)
        {
            await Task.WhenAny(Task.Delay(CheckInterval, time, stopping), hangup.Task).ConfigureAwait(false);
            if (stopping.IsCancellationRequested) return;
            var signalled = hangup.Task.IsCompleted;
            if (signalled) Volatile.Write(ref hangup, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            var now = Stamps(current.AccountsFile);
            if (!signalled && now == seen) continue;
            seen = now;
            logger.LogInformation("reading the settings again ({Why})", signalled ? "SIGHUP" : "a file changed");
            if (Read() is not { } reloaded) continue;
            current = reloaded;
            Current = reloaded;
            seen = Stamps(current.AccountsFile);
            await apply(reloaded.Units).ConfigureAwait(false);
        }
    }

    private ObserverOptions? Read()
    {
        try
        {
            var (configuration, file) = ObserverConfiguration.Build(arguments);
            var options = new ObserverOptions();
            ObserverConfiguration.BindInto(options, configuration, file);
            var result = new ObserverOptionsValidator().Validate(null, options);
            if (result.Failed)
            {
                logger.LogError("settings not reloaded: {Problems}; every account runs on as before", string.Join("; ", result.Failures));
                return null;
            }
            if (!options.RunsSeveral)
            {
                logger.LogError("settings not reloaded: they no longer list accounts or replicas; going from several to one takes a restart");
                return null;
            }
            return options;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // An unreadable or half-written file, a bad path: a reload that fails leaves the service as it was, whatever the cause.
            logger.LogError("settings not reloaded: {Problem}; every account runs on as before", ex.Message.ReplaceLineEndings(" "));
            return null;
        }
    }

    /// <summary>When each file was last written, to the tick; an edit within the same second still shows.</summary>
    private (DateTime Settings, DateTime Accounts) Stamps(string? accountsFile) => (Stamp(settingsFile), Stamp(accountsFile));

    private static DateTime Stamp(string? path) => path is not null && File.Exists(path) ? File.GetLastWriteTimeUtc(path) : DateTime.MinValue;
}

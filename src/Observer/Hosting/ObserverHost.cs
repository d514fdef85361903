using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Observer.Cli;
using Observer.Configuration;
using Observer.State;

namespace Observer.Hosting;

/// <summary>Wires observer's services: options (validated at start), logging to stderr, state, sessions, engine.</summary>
public static class ObserverHost
{
    public static IHost Build(CommandLineArguments arguments, IConfigurationRoot configuration, string? settingsFile)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddConfiguration(configuration);

        // Under systemd (Type=notify): READY=1 once started, STOPPING=1 on SIGTERM; nothing elsewhere. Registered before the
        // log format, whose choice must win over the journal format it sets.
        builder.Services.AddSystemd();
        var inJournal = SystemdHelpers.IsSystemdService();
        builder.Logging.AddConfiguration(configuration.GetSection("Logging"));
        // One JSON object a line for a log collector, or one line of text for a person and the journal.
        switch (configuration["Logging:Format"]?.Trim().ToLowerInvariant())
        {
            case null or "" or "text" when inJournal:
                // The journal stamps each line itself and reads the <6> level prefix this format writes.
                builder.Logging.AddSystemdConsole(o => o.IncludeScopes = true);
                break;
            case null or "" or "text":
                builder.Logging.AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    // The account a line is about, in a service of several ("=> account alice").
                    o.IncludeScopes = true;
                    o.TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff ";
                    o.ColorBehavior = LoggerColorBehavior.Disabled;
                });
                break;
            case "json":
                builder.Logging.AddJsonConsole(o =>
                {
                    o.IncludeScopes = true;
                    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                    o.UseUtcTimestamp = true;
                });
                break;
            default:
                throw new ConfigurationProblemException($"Logging:Format is '{configuration["Logging:Format"]}'; it must be Text (the default) or Json");
        }
        // The live progress display shares stderr with the console log: it takes the place of its information lines.
        if (Progress.ProgressReporter.Displays(arguments)) builder.Logging.AddFilter<ConsoleLoggerProvider>(null, LogLevel.Warning);
        // Logs go to stderr; stdout carries the command's own report.
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);

        builder.Services.AddOptions<ObserverOptions>()
            .Configure(o => ObserverConfiguration.BindInto(o, configuration, settingsFile))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ObserverOptions>, ObserverOptionsValidator>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => StateStore.Open(Options(sp).State.Location, sp.GetRequiredService<TimeProvider>()));
        var leased = arguments.Verb == Verb.Run && string.Equals(configuration["State:Provider"], nameof(StateProvider.PostgreSql), StringComparison.OrdinalIgnoreCase);
        if (leased)
            builder.Services.AddSingleton(sp =>
            {
                // Its own connection: renewals must never queue behind the accounts' statements on the store's one connection.
                var keeper = new LeaseKeeper(StateStore.Open(Options(sp).State.Location, sp.GetRequiredService<TimeProvider>()), Options(sp).State.WorkerName,
                    Options(sp).State.LeaseTime, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<LeaseKeeper>>());
                sp.GetRequiredService<StateStore>().Fence = keeper;
                return keeper;
            });
        builder.Services.AddSingleton(sp => new AccountEngines(Options(sp), sp.GetRequiredService<StateStore>(),
            sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<TimeProvider>(), leased ? sp.GetRequiredService<LeaseKeeper>() : null));
        if (arguments.Verb == Verb.Run)
        {
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(60));
            builder.Services.AddSingleton(sp => new SettingsReloader(arguments, settingsFile, sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<SettingsReloader>>()));
            builder.Services.AddSingleton<ReplicationWorker>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<ReplicationWorker>());
            builder.Services.AddHostedService<Progress.ProgressLogging>();
            // A worker of a shared state says it is alive in the workers table instead (LeaseKeeper).
            if (!leased)
                builder.Services.AddHostedService(sp => new ServiceBeacon(Options(sp).State.Path, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ServiceBeacon>>()));
            if (!string.IsNullOrEmpty(configuration["Http:Url"]))
            {
                builder.Services.AddSingleton<Monitoring.MetricsExporter>();
                builder.Services.AddHostedService(sp => new Monitoring.MonitoringServer(Options(sp), sp.GetRequiredService<SettingsReloader>(),
                    sp.GetRequiredService<Monitoring.MetricsExporter>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<Monitoring.MonitoringServer>>()));
            }
        }
        return builder.Build();
    }

    public static ObserverOptions Options(IServiceProvider services) => services.GetRequiredService<IOptions<ObserverOptions>>().Value;
}

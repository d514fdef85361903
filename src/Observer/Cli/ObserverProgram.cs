using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Observer.Commands;
using Observer.Configuration;
using Observer.Hosting;
using Observer.Replication;
using Observer.State;

namespace Observer.Cli;

/// <summary>
/// The observer command. Exit codes: 0 success; 1 the replica differs, or replication failed;
/// 2 a mistake in the command line or the settings (`status` has its own: see <see cref="Monitoring.HealthLevel"/>).
/// Errors are one line on stderr.
/// </summary>
public static class ObserverProgram
{
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? errors = null, CancellationToken cancellationToken = default)
    {
        output ??= Console.Out;
        errors ??= Console.Error;
        var (arguments, problem) = CommandLineArguments.Parse(args);
        if (arguments is null)
        {
            await errors.WriteLineAsync("observer: " + problem);
            return 2;
        }
        if (arguments.Verb == Verb.Help)
        {
            await output.WriteLineAsync(CommandLineArguments.Usage);
            return 0;
        }
        if (arguments.Verb == Verb.Version)
        {
            await output.WriteLineAsync("observer " + VersionText);
            return 0;
        }

        IHost host;
        ObserverOptions options;
        try
        {
            var (configuration, file) = ObserverConfiguration.Build(arguments);
            host = ObserverHost.Build(arguments, configuration, file);
            options = ObserverHost.Options(host.Services);
            // Not a setting: this command's own look at some folders, before any engine reads the options.
            if (arguments.FolderPatterns.Count > 0) options.Replication.Folders.ScopeTo(arguments.FolderPatterns);
        }
        catch (ConfigurationProblemException ex)
        {
            await errors.WriteLineAsync("observer: config: " + ex.Message);
            return 2;
        }
        catch (StateUnavailableException ex)
        {
            // An outage, not a mistake: exit 1, so that systemd starts the service again (it does not after a 2); for
            // status, 2: not connected, which a monitoring check must read as critical.
            await errors.WriteLineAsync("observer: " + ex.Message);
            return arguments.Verb == Verb.Status ? 2 : 1;
        }
        catch (OptionsValidationException ex)
        {
            foreach (var failure in ex.Failures) await errors.WriteLineAsync("observer: config: " + failure);
            return 2;
        }

        using (host)
        {
            try
            {
                return await RunVerbAsync(arguments, host, options, output, errors, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return 1;
            }
            catch (UsageException ex)
            {
                await errors.WriteLineAsync("observer: " + ex.Message);
                return 2;
            }
            catch (ConfigurationProblemException ex)
            {
                // Found only when the settings are used, such as a State:Path in a folder that cannot be written to.
                await errors.WriteLineAsync("observer: config: " + ex.Message);
                return 2;
            }
            catch (Exception ex) when (ObserverErrors.IsUserFacing(ex))
            {
                await errors.WriteLineAsync("observer: " + OneLine(ex));
                return 1;
            }
        }
    }

    private static async Task<int> RunVerbAsync(CommandLineArguments arguments, IHost host, ObserverOptions options, TextWriter output, TextWriter errors,
        CancellationToken cancellationToken)
    {
        var services = host.Services;
        // Status opens the state itself, read-only: it must neither create a database nor wait for the lock.
        if (arguments.Verb == Verb.Status)
            return await StatusCommand.RunAsync(options, arguments.Account, services.GetRequiredService<TimeProvider>(), output, errors, arguments.Replica, arguments.Json);
        // Approving only writes to the state database, which a running service shares: no instance lock.
        if (arguments.Verb == Verb.Approve)
            return await ApproveCommand.RunAsync(services.GetRequiredService<StateStore>, options, arguments.Account, arguments.All ? null : arguments.Folders, output, arguments.Replica);

        // Ending a backoff only moves a time in the state, which the running service reads: no instance lock either.
        if (arguments.Verb == Verb.Retry)
            return await RetryCommand.RunAsync(options, arguments.Account, arguments.Replica, arguments.Folders, services.GetRequiredService<TimeProvider>(), output);

        if (arguments.Verb == Verb.Forget && arguments.Folder is { } forgotten)
            return await ForgetCommand.ForgetFolderAsync(options, forgotten, arguments.Account, arguments.Replica, services.GetRequiredService<TimeProvider>(), output);

        // Forgetting deletes one account's rows, for an account no service runs any more: no instance lock either.
        if (arguments.Verb == Verb.Forget && arguments.Folder is null)
            return await ForgetCommand.RunAsync(options, arguments.Account!, services.GetRequiredService<TimeProvider>(), output);

        // Restoring reads a replica and adds to the primary; a running service then replicates what it added, so no lock.
        if (arguments.Verb == Verb.Restore)
        {
            var who = arguments.Account is { } asked ? AccountEngines.Named(asked, options.EffectiveAccounts.Select(a => a.Name), options.HasAccountList) : null;
            var from = AccountEngines.NamedReplica(arguments.From!, options.Units.Select(u => (string?)u.Target.Name), hasReplicaList: true);
            var units = services.GetRequiredService<AccountEngines>().All
                .Where(a => (a.Replica ?? options.Replication.ReplicaName) == from && (who is null || a.Name == who)).ToList();
            return await EachAccountAsync(options.RunsSeveral, units, "restore", "every account's restore is done",
                (engine, writer) => RestoreCommand.RunAsync(engine, arguments.Folder, arguments.Since, writer, cancellationToken), host, output, errors);
        }

        // The report reads both servers and writes nothing: no lock, so it can be run beside the service.
        if (arguments.Verb == Verb.Report)
        {
            if (arguments.Account is { } who) AccountEngines.Named(who, options.EffectiveAccounts.Select(a => a.Name), options.HasAccountList);
            if (!options.State.Location.MayExist)
            {
                await output.WriteLineAsync($"report: no state database at {options.State.Describe}, so no promotion recorded; nothing to compare");
                return 0;
            }
            return await SplitBrainCommand.RunAsync(services.GetRequiredService<AccountEngines>().Select(arguments.Account, arguments.Replica), output, cancellationToken);
        }

        // The --account check needs only the settings; the state is opened (and migrated) only under the lock.
        if (arguments.Account is { } named) AccountEngines.Named(named, options.EffectiveAccounts.Select(a => a.Name), options.HasAccountList);
        if (arguments.Replica is { } replica) AccountEngines.NamedReplica(replica, options.ReplicaNames, options.NamesReplicas);
        // Comparing writes nothing to the servers, so it runs beside the service, without its lock.
        var compareOnly = arguments.DryRun || (arguments.Verb == Verb.Verify && !arguments.Repair);
        var instance = compareOnly ? InstanceLock.TryAcquire(options.State.Location) : InstanceLock.Acquire(options.State.Location, worker: arguments.Verb == Verb.Run);
        using var held = instance;
        // Beside a running service: a state it has not brought up to this version's schema is not touched.
        if (instance is null && options.State.Location.MayExist) StateStore.OpenReadOnly(options.State.Location).Dispose();
        var accounts = services.GetRequiredService<AccountEngines>();
        if (arguments.Verb == Verb.Run) return await RunServiceAsync(host, services, cancellationToken);
        // Beside a running service (or a sync), a difference may be a change on its way.
        foreach (var unit in accounts.All) unit.Engine.BesideService = instance is null;
        if (compareOnly && instance is not null)
        {
            // The lock only while the state is opened (and brought up to date): a comparison takes long, and a service
            // starting meanwhile must not find it taken and give up.
            services.GetRequiredService<StateStore>().WaitUntilOpen();
            instance.Dispose();
        }
        var selected = accounts.Select(arguments.Account, arguments.Replica);
        // On a terminal the report waits for the live display to end, which it would otherwise run through.
        var display = Progress.ProgressReporter.Displays(arguments);
        var report = display ? new StringWriter() : output;
        try
        {
            await using var progress = Progress.ProgressReporter.Start(display, services.GetRequiredService<ILoggerFactory>().CreateLogger("Observer"),
                services.GetRequiredService<TimeProvider>());
            return await RunCommandAsync(arguments, host, accounts, selected, report, errors, cancellationToken);
        }
        finally
        {
            if (display) await output.WriteAsync(report.ToString());
        }
    }

    private static async Task<int> RunServiceAsync(IHost host, IServiceProvider services, CancellationToken cancellationToken)
    {
        services.GetRequiredService<StateStore>().WaitUntilOpen();
        var worker = services.GetRequiredService<ReplicationWorker>();
        await host.StartAsync(cancellationToken);
        await host.WaitForShutdownAsync(cancellationToken);
        return worker.FatalError is null ? 0 : 1;
    }

    private static async Task<int> RunCommandAsync(CommandLineArguments arguments, IHost host, AccountEngines accounts,
        IReadOnlyList<AccountEngine> selected, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        var services = host.Services;
        var options = ObserverHost.Options(services);
        if (arguments.DryRun)
            return await EachAccountAsync(accounts.RunsSeveral, selected, "dry run", "nothing to do for any account",
                (engine, writer) => DryRunCommand.RunAsync(engine, arguments.Verb == Verb.Verify, arguments.Force, writer, cancellationToken), host, output, errors);
        switch (arguments.Verb)
        {
            case Verb.Drain:
                return await DrainCommand.RunAsync(selected, options.CurrentPrimaryName, arguments.Account is not null || arguments.Replica is not null, output, cancellationToken);
            case Verb.Promote:
                return await PromoteCommand.RunAsync(options, accounts, services.GetRequiredService<StateStore>(), arguments.Promoted!, arguments.Force, output, cancellationToken);
            case Verb.Sync:
                return await EachAccountAsync(accounts.RunsSeveral, selected, "sync", "every account's replica matches its primary", (engine, writer) => SyncCommand.RunAsync(engine, arguments.Full, writer, cancellationToken),
                    host, output, errors);
            default:
                return await EachAccountAsync(accounts.RunsSeveral, selected, "verify", "every account's replica is identical to its primary", (engine, writer) => VerifyCommand.RunAsync(engine, arguments.Repair, arguments.Force, writer, cancellationToken),
                    host, output, errors);
        }
    }

    /// <summary>
    /// Runs a one-shot command for each account in turn. With an Accounts list, an account that fails (a refused
    /// login, a server down) is reported in one line and the next one goes on; the exit code is the worst of them.
    /// </summary>
    private static async Task<int> EachAccountAsync(bool runsSeveral, IReadOnlyList<AccountEngine> accounts, string verb, string allWell,
        Func<ReplicationEngine, TextWriter, Task<int>> command, IHost host, TextWriter output, TextWriter errors)
    {
        if (!runsSeveral) return await command(accounts[0].Engine, output);
        if (accounts.Count == 0)
        {
            await output.WriteLineAsync($"{verb}: the settings name no accounts; add them to Accounts or the AccountsFile");
            return 1;
        }
        var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Observer");
        var failed = new List<string>();
        foreach (var account in accounts)
        {
            await output.WriteLineAsync(account.Name.Length == 0 ? account.Label : $"account {account.Label}");
            using var scope = account.BeginScope(logger);
            int code;
            try
            {
                code = await command(account.Engine, new IndentedWriter(output));
            }
            catch (Exception ex) when (ObserverErrors.IsUserFacing(ex) && ex is not StateException)
            {
                await output.WriteLineAsync($"  {verb}: FAILED: {OneLine(ex)}");
                code = 1;
            }
            if (code != 0) failed.Add(account.Label);
        }
        await output.WriteLineAsync(failed.Count == 0
            ? $"{verb}: {allWell} ({Counted(accounts)})"
            : $"{verb}: {failed.Count} of {Counted(accounts)} {(failed.Count == 1 ? "needs" : "need")} attention: {string.Join(", ", failed)}");
        return failed.Count == 0 ? 0 : 1;
    }

    /// <summary>"3 accounts", or "2 replicas" for one account of several replicas, or "6 accounts and replicas".</summary>
    private static string Counted(IReadOnlyList<AccountEngine> units)
    {
        var accounts = units.Select(u => u.Name).Distinct().Count();
        if (accounts == units.Count) return accounts == 1 ? "1 account" : $"{accounts} accounts";
        return accounts == 1 ? $"{units.Count} replicas" : $"{units.Count} accounts and replicas";
    }

    /// <summary>"0.12.0 (commit 12fd728504a8)": the version, and the commit it was built from when the build knew it.</summary>
    public static string VersionText
    {
        get
        {
            var informational = typeof(ObserverProgram).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            var plus = informational.IndexOf('+', StringComparison.Ordinal);
            if (plus < 0) return informational;
            var commit = informational[(plus + 1)..];
            return $"{informational[..plus]} (commit {commit[..Math.Min(12, commit.Length)]})";
        }
    }

    private static string OneLine(Exception ex) => ex.Message.ReplaceLineEndings(" ");
}

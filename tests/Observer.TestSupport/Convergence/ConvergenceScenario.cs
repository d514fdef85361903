using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Observer.Mail;

namespace Observer.TestSupport;

/// <summary>
/// The randomized convergence test (issue 8): a fresh pair of any two server kinds, `observer run`
/// between them behind fault proxies, several clients of one user changing the primary at random
/// from a seed, probes of liveness, connection cuts and SIGKILLs; then the replica must equal the
/// primary, never have held duplicates, and observer must be quiet. The CI test and the soak both
/// run this, at different sizes.
/// </summary>
public sealed partial class ConvergenceScenario
{
    private readonly ConvergenceOptions _options;
    private readonly ConvergenceResult _result;
    private readonly MutationLog _log = new(keep: 100_000);
    private readonly InFlightProbes _probes = new();
    private readonly object _countsLock = new();

    private ConvergenceScenario(ConvergenceOptions options)
    {
        _options = options;
        _result = new ConvergenceResult(options);
    }

    public static async Task<ConvergenceResult> RunAsync(ConvergenceOptions options)
    {
        var scenario = new ConvergenceScenario(options);
        var clock = Stopwatch.StartNew();
        var work = Directory.CreateTempSubdirectory("observer-convergence-").FullName;
        try
        {
            await scenario.RunAsync(work);
        }
        catch (Exception ex)
        {
            scenario._result.Failures.Add($"the scenario itself failed: {ex}");
        }
        var result = scenario._result;
        result.Duration = clock.Elapsed;
        result.LogCount = scenario._log.Count;
        result.LastMutations = scenario._log.Last(25);
        if (result.Passed)
        {
            Directory.Delete(work, recursive: true);
        }
        else
        {
            await File.WriteAllLinesAsync(Path.Combine(work, "mutations.log"), scenario._log.Last(int.MaxValue));
            await File.WriteAllTextAsync(Path.Combine(work, "observer.log"), result.ObserverLog);
            result.Failures.Add($"observer's state, settings and whole log, and every mutation, are kept in {work}");
        }
        return result;
    }

    private async Task RunAsync(string work)
    {
        var master = new Random(_options.Seed);
        var (fillSeed, faultSeed, probeSeed, churnSeed) = (master.Next(), master.Next(), master.Next(), master.Next());
        var userSeeds = Enumerable.Range(0, _options.Clients).Select(_ => master.Next()).ToList();

        _options.Progress($"{_options.Pair} seed {_options.Seed}: starting the servers");
        await using var pair = await ServerPair.StartAsync(_options.Primary, _options.Replica, $"conv-{_options.Primary}-{_options.Replica}".ToLowerInvariant());
        var accounts = await pair.NewAccountsAsync();
        FolderNaming naming;
        await using (var replica = await accounts.ReplicaClientAsync()) _result.ReplicaCapabilities = replica.Capabilities.ToString();
        await using (var filler = await accounts.PrimaryClientAsync())
        {
            _result.PrimaryCapabilities = filler.Capabilities.ToString();
            naming = await FolderNaming.ReadAsync(filler);
            await ScenarioSetup.SeedPrimaryAsync(filler, naming, new Random(fillSeed), _options.InitialMessages);
        }

        await using var primaryProxy = FaultProxy.Start(pair.Primary.Host, pair.Primary.Port);
        await using var replicaProxy = FaultProxy.Start(pair.Replica.Host, pair.Replica.Port);
        var settings = ScenarioSetup.Settings(accounts, Path.Combine(work, "state.db"), primaryProxy, replicaProxy);
        foreach (var (key, value) in _options.ExtraSettings) settings[key] = value;
        var started = DateTime.Now;
        await using var faults = new FaultInjector(settings, work, primaryProxy, replicaProxy, _log);
        try
        {
            _options.Progress("first copy");
            if (!await ConvergeAsync(accounts, "the first copy") || await faults.WaitUntilWatchingAsync(started, TimeSpan.FromSeconds(60)) is null)
            {
                _result.Failures.Add("observer did not finish its first copy and start watching the primary");
                return;
            }

            _options.Progress($"activity for {_options.Activity.TotalSeconds:0} s");
            await ActivityAsync(accounts, naming, faults, userSeeds, churnSeed, probeSeed, faultSeed);
            var stopped = DateTime.Now;

            _options.Progress("waiting for the replica to equal the primary");
            var settle = Stopwatch.StartNew();
            var converged = await ConvergeAsync(accounts, "the replica", faults);
            if (converged) _result.Settle = settle.Elapsed;
            await FinalChecksAsync(accounts, naming, faults, stopped, converged);
        }
        finally
        {
            _result.Faults = faults.Windows;
            _result.Kills = faults.Kills;
            _result.Cuts = faults.Cuts;
            _result.ObserverLog = faults.AllErrors;
            _result.PeakObserverMemory = Math.Max(_result.PeakObserverMemory, faults.PeakMemory);
        }
    }

    /// <summary>The users, the churn, the probes, the faults and the duplicate checks, all at once, for the activity time.</summary>
    private async Task ActivityAsync(PairAccounts accounts, FolderNaming naming, FaultInjector faults, List<int> userSeeds, int churnSeed, int probeSeed, int faultSeed)
    {
        using var stop = new CancellationTokenSource();
        var folders = new SharedFolders(ScenarioSetup.BaseFolders);
        var prober = new LivenessProber(accounts, _log, _probes);
        var tasks = new List<Task>();
        for (var i = 0; i < userSeeds.Count; i++)
        {
            var (name, seed) = ($"{i + 1}", userSeeds[i]);
            tasks.Add(Task.Run(() => UserAsync(accounts, naming, folders, name, seed, stop.Token)));
        }
        tasks.Add(Task.Run(() => ChurnAsync(accounts, naming, churnSeed, stop.Token)));
        tasks.Add(Task.Run(() => prober.RunAsync(new Random(probeSeed), _options.ProbeEvery, stop.Token)));
        tasks.Add(Task.Run(() => FaultsAsync(faults, new Random(faultSeed), stop.Token)));
        tasks.Add(Task.Run(() => DuplicateChecksAsync(accounts, stop.Token)));

        var done = Task.WhenAll(tasks);
        await Task.WhenAny(done, Task.Delay(_options.Activity));
        await stop.CancelAsync();
        await done;
        _result.Judge(prober.Probes, faults.Windows, _options.ProbeBudget);
        foreach (var missed in _result.Probes.Where(p => p.Missed))
            _result.Failures.Add($"probe {missed.Probe.Number} took {(missed.Probe.Lag is { } l ? $"{l.TotalSeconds:0.0} s" : "forever")} to reach the replica, allowed {missed.Allowed.TotalSeconds:0.0} s");
        if (faults.Observer.HasExited) _result.Failures.Add($"observer exited during the activity (exit code {await faults.Observer.WaitForExitAsync(TimeSpan.FromSeconds(5))})");
    }

    private async Task UserAsync(PairAccounts accounts, FolderNaming naming, SharedFolders folders, string name, int seed, CancellationToken stop)
    {
        var random = new Random(seed);
        var mutator = new MailboxMutator(await accounts.PrimaryClientAsync(), random, folders, naming, MutationProfile.Convergence, name, _probes);
        var who = $"client {name}";
        try
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var done = await mutator.MutateOnceAsync();
                    if (done != "nothing") _log.Record(who, done);
                }
                catch (ImapCommandException ex)
                {
                    // Another client renamed or deleted the folder first, or the server refused odd bytes: a real user sees that too.
                    lock (_countsLock) _result.Refused++;
                    _log.Record(who, $"{mutator.LastAction} refused: {ex.Message}");
                }
                catch (Exception ex) when (ex is ImapException or IOException && !mutator.Client.IsConnected)
                {
                    _log.Record(who, $"{mutator.LastAction} lost the connection ({ex.Message}); reconnecting");
                    await mutator.Client.DisposeAsync();
                    mutator.Client = await accounts.PrimaryClientAsync();
                }
                if (!await PauseAsync(random, _options.MaxPause, stop)) break;
            }
        }
        finally
        {
            await mutator.Client.DisposeAsync();
            lock (_countsLock)
                foreach (var (action, count) in mutator.Counts) _result.Mutations[action] = _result.Mutations.GetValueOrDefault(action) + count;
        }
    }

    private async Task ChurnAsync(PairAccounts accounts, FolderNaming naming, int seed, CancellationToken stop)
    {
        var random = new Random(seed);
        var churn = new ChurnFolder(await accounts.PrimaryClientAsync(), random, naming.ServerName(ScenarioSetup.Churn));
        try
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    _log.Record("churn", await churn.StepAsync());
                }
                catch (Exception ex) when (ex is ImapException or IOException && !churn.Client.IsConnected)
                {
                    _log.Record("churn", $"lost the connection ({ex.Message}); reconnecting");
                    await churn.Client.DisposeAsync();
                    churn.Client = await accounts.PrimaryClientAsync();
                }
                if (!await PauseAsync(random, _options.MaxPause, stop)) break;
            }
        }
        finally
        {
            await churn.Client.DisposeAsync();
            lock (_countsLock)
            {
                _result.Mutations["churn append"] = churn.Appended;
                _result.Mutations["churn expunge"] = churn.Expunged;
            }
        }
    }

    /// <summary>
    /// A plan drawn from the seed: about one SIGKILL per <see cref="ConvergenceOptions.KillEvery"/>
    /// (at least one) and one cut per <see cref="ConvergenceOptions.CutEvery"/>, at random moments
    /// of the activity; one fault at a time, each after observer recovered from the one before.
    /// </summary>
    private async Task FaultsAsync(FaultInjector faults, Random random, CancellationToken stop)
    {
        var activity = _options.Activity;
        var kills = Math.Max(1, (int)Math.Round(activity / _options.KillEvery));
        var cuts = (int)Math.Round(activity / _options.CutEvery);
        var plan = Enumerable.Repeat("kill", kills).Concat(Enumerable.Repeat("cut", cuts))
            .Select(kind => (At: activity * (0.1 + 0.75 * random.NextDouble()), Kind: kind))
            .OrderBy(f => f.At).ToList();
        var clock = Stopwatch.StartNew();
        foreach (var (at, kind) in plan)
        {
            if (at > clock.Elapsed && !await PauseAsync(at - clock.Elapsed, stop)) return;
            if (kind == "kill")
            {
                await faults.KillAndRestartAsync();
            }
            else if (_options.Stalls && random.Next(4) == 0)
            {
                await faults.StallAsync(random.Next(2) == 0, TimeSpan.FromMilliseconds(random.Next(500, 4000)));
            }
            else
            {
                await faults.CutAsync(primary: random.Next(2) == 0, all: random.Next(5) == 0, random);
            }
        }
    }

    /// <summary>
    /// Looks for duplicates twice during the activity. A copy appended before the expunge of the
    /// one it replaces can exist for a moment (a message moved away and back within the move
    /// window), so a duplicate counts only if it is still there 5 s later; at the end, any counts.
    /// </summary>
    private async Task DuplicateChecksAsync(PairAccounts accounts, CancellationToken stop)
    {
        for (var check = 1; check <= 2; check++)
        {
            if (!await PauseAsync(_options.Activity / 3, stop)) return;
            var first = await DuplicatesNowAsync(accounts);
            if (first.Count == 0) continue;
            await Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None);
            var second = await DuplicatesNowAsync(accounts);
            var lasting = second.Where(d => first.Any(f => f.Folder == d.Folder && f.Message == d.Message)).ToList();
            _log.Record("check", $"duplicate check {check}: {first.Count} seen, {lasting.Count} still there 5 s later");
            lock (_countsLock) _result.Duplicates.AddRange(lasting);
        }
    }

    private async Task<List<Duplicate>> DuplicatesNowAsync(PairAccounts accounts)
    {
        try
        {
            var replica = await accounts.ReplicaSnapshotAsync();
            return replica.DuplicatesOf(await accounts.PrimarySnapshotAsync());
        }
        catch (Exception ex) when (ex is ImapCommandException || (ex is ImapProtocolException && ex.Message.Contains("deleted under us", StringComparison.Ordinal)))
        {
            // A folder renamed or deleted while it was read (Dovecot may even close the connection, with
            // "BYE Mailbox was deleted under us"): this check is skipped, not failed; the final one counts.
            _log.Record("check", $"duplicate check skipped: {ex.Message}");
            return [];
        }
    }

    /// <summary>
    /// Waits, bounded, until the replica equals the primary; on timeout records the differences as a
    /// failure. With <paramref name="approver"/>, deletions the guard holds are approved when the
    /// replica still differs 10 s into the wait and every 10 s after: the issue's invariant is
    /// "the replica equals the primary, except what the guard holds, and after approval that too".
    /// </summary>
    private async Task<bool> ConvergeAsync(PairAccounts accounts, string what, FaultInjector? approver = null)
    {
        List<string> last = [];
        var clock = Stopwatch.StartNew();
        var nextApproval = TimeSpan.FromSeconds(10);
        try
        {
            await Eventually.HoldsAsync(async () =>
            {
                try
                {
                    if ((last = await accounts.DifferencesAsync()).Count == 0) return true;
                }
                catch (ImapCommandException ex)
                {
                    // Observer renamed or deleted a folder between our LIST and EXAMINE: it is still at work.
                    last = [ex.Message];
                }
                if (approver is not null && clock.Elapsed > nextApproval)
                {
                    nextApproval = clock.Elapsed + TimeSpan.FromSeconds(10);
                    await ApproveHoldsAsync(approver);
                }
                return false;
            }, _options.ConvergeWithin, every: TimeSpan.FromSeconds(1));
            return true;
        }
        catch (TimeoutException)
        {
            _result.Failures.Add($"{what} did not equal the primary within {_options.ConvergeWithin.TotalSeconds:0} s ({last.Count} differences)");
            _result.Differences = last;
            return false;
        }
    }

    private async Task ApproveHoldsAsync(FaultInjector observer)
    {
        var approve = await ObserverProcess.RunAsync("approve", observer.Settings, observer.WorkDirectory, TimeSpan.FromSeconds(60), "--all");
        var approved = ApprovedCount().Match(approve.Output) is { Success: true } m ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        if (approve.ExitCode != 0) _result.Failures.Add($"`observer approve --all` exited {approve.ExitCode}: {approve.Output}{approve.Errors}");
        if (approved == 0) return;
        _result.ApprovedAfterActivity += approved;
        _log.Record("guard", $"the replica still differs and observer holds deletions: {approve.Output.Trim()}");
    }

    /// <summary>The guard's warnings: message deletions held back, folder deletions held back.</summary>
    [GeneratedRegex(@"\[(2012|2024)\]")]
    private static partial Regex HoldWarning();

    [GeneratedRegex(@"approve: (\d+) held deletion")]
    private static partial Regex ApprovedCount();

    private async Task FinalChecksAsync(PairAccounts accounts, FolderNaming naming, FaultInjector faults, DateTime stopped, bool converged)
    {
        var primary = await accounts.PrimarySnapshotAsync();
        var replica = await accounts.ReplicaSnapshotAsync();
        _result.PrimaryMessages = primary.MessageCount;
        _result.PrimaryFolders = primary.Folders.Count;
        primary.Differences(replica);
        _result.StoredAltered = replica.StoredAltered;
        _result.Duplicates.AddRange(replica.DuplicatesOf(primary));
        if (_result.Duplicates.Count > 0) _result.Failures.Add($"{_result.Duplicates.Count} duplicates on the replica");

        var cpu = faults.Observer.CpuTime;
        await Task.Delay(_options.Quiet);
        _result.QuietCpuSecondsPerMinute = (faults.Observer.CpuTime - cpu).TotalSeconds / _options.Quiet.TotalMinutes;

        // The guard's step starts from a replica equal to the primary; after a failure it would only add noise.
        if (converged)
        {
            _options.Progress("mass delete with observer stopped, held, approved");
            await MassDeleteStep.RunAsync(accounts, naming, faults, _log, _result, what => ConvergeAsync(accounts, what));
        }

        _result.HoldWarnings = ObserverLog.Parse(faults.AllErrors).Count(l => HoldWarning().IsMatch(l.Text));
        var paths = _log.FolderPaths();
        _result.RepeatedLines = ObserverLog.Repeated(faults.AllErrors, stopped, _options.MaxRepeatsPerMinute, paths.Concat(paths.Select(naming.ServerName)));
        if (_result.RepeatedLines.Count > 0)
            _result.Failures.Add($"{_result.RepeatedLines.Count} log lines repeat more than {_options.MaxRepeatsPerMinute} times a minute after the activity stopped");

        var code = await faults.StopAsync();
        if (code != 0) _result.Failures.Add($"observer exited with code {code} on SIGTERM");
    }

    private static Task<bool> PauseAsync(Random random, TimeSpan max, CancellationToken stop) => PauseAsync(max * random.NextDouble(), stop);

    /// <summary>Waits; false when <paramref name="stop"/> came first.</summary>
    private static async Task<bool> PauseAsync(TimeSpan time, CancellationToken stop)
    {
        try
        {
            await Task.Delay(time, stop);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}

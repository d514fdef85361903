using System.Diagnostics;
using System.Globalization;
using System.Text;
using Observer.Imap;
using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>
/// `soak`: observer between a fresh local pair for a bounded time, behind fault proxies, with a
/// busy user on the primary and random faults (cuts, stalls, refusals, SIGKILL of observer), then
/// a full comparison. Prints one table.
/// </summary>
internal static class SoakCommand
{
    public static async Task<int> RunAsync(BenchArguments args)
    {
        var duration = TimeSpan.FromMinutes(args.Number("minutes", 10));
        var seed = args.Number("seed", 1234);
        var random = new Random(seed);
        var work = Directory.CreateTempSubdirectory("observer-soak-").FullName;
        Console.Error.WriteLine($"soak: {duration.TotalMinutes:0} min, seed {seed}, work folder {work}");

        await using var pair = await DovecotPair.StartAsync("soak");
        var accounts = await pair.NewAccountsAsync();
        var folders = new[] { "INBOX", "Archive.2026", "Projects.Alpha", "Caf\u00e9" };
        await using (var filler = await accounts.PrimaryClientAsync())
        {
            var corpus = new CorpusGenerator(CorpusProfile.Parse("small") with { Messages = args.Number("messages", 2000), Folders = 4 }, seed);
            await CorpusCommand.FillAsync(filler, corpus);
        }
        folders = (await accounts.PrimarySnapshotAsync()).Folders.Keys.Select(k => k.Replace('/', '.')).ToArray();

        await using var primaryProxy = FaultProxy.Start(pair.Primary.Host, pair.Primary.Port);
        await using var replicaProxy = FaultProxy.Start(pair.Replica.Host, pair.Replica.Port);
        var settings = accounts.Settings(Path.Combine(work, "state.db"));
        settings["Primary:Port"] = primaryProxy.Port.ToString(CultureInfo.InvariantCulture);
        settings["Replica:Port"] = replicaProxy.Port.ToString(CultureInfo.InvariantCulture);
        foreach (var side in new[] { "Primary", "Replica" }) settings[$"{side}:CommandTimeout"] = "00:00:10";
        settings["Reconnect:InitialDelay"] = "00:00:00.250";
        settings["Reconnect:MaxDelay"] = "00:00:05";
        settings["Replication:ReconcileInterval"] = "00:01:00";
        settings["Replication:PollInterval"] = "00:00:05";
        if (args.Flag("debug")) settings["Logging:LogLevel:Observer"] = "Debug";
        if (args.Flag("trace")) settings["Logging:LogLevel:Observer.Imap.Protocol"] = "Trace";

        var clock = Stopwatch.StartNew();
        var stats = new SoakStats();
        var observer = ObserverProcess.Start("run", settings, work);
        var logFile = args.Text("log", "");
        try
        {
        using var stop = new CancellationTokenSource(duration);

        var user = Task.Run(async () =>
        {
            await using var client = await accounts.PrimaryClientAsync();
            var mutator = new MailboxMutator(client, seed + 1, folders);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await mutator.MutateOnceAsync();
                    stats.Mutations = mutator.Total;
                }
                catch (ImapCommandException)
                {
                    // A folder the mutator picked was just renamed or deleted; the next one will do.
                }
                await Task.Delay(random.Next(50, 400), CancellationToken.None);
            }
        });

        var lag = Task.Run(async () =>
        {
            await using var primary = await accounts.PrimaryClientAsync();
            await using var replica = await accounts.ReplicaClientAsync();
            var probe = await LagProbe.OpenAsync(primary, replica, "INBOX");
            while (!stop.IsCancellationRequested)
            {
                var id = $"<soak-lag-{Guid.NewGuid():N}@bench.example.com>";
                var message = new AppendMessage(ImapLiteral.FromString($"From: soak@example.com\r\nSubject: lag\r\nMessage-ID: {id}\r\n\r\nprobe\r\n"));
                try
                {
                    stats.Lag.Add(await probe.AppendAsync(message, id, TimeSpan.FromMinutes(3)));
                }
                catch (BenchException)
                {
                    stats.LostProbes++;
                }
                await Task.Delay(random.Next(2000, 5000), CancellationToken.None);
            }
        });

        var faultRandom = new Random(seed + 2);
        while (!stop.IsCancellationRequested)
        {
            await Task.Delay(faultRandom.Next(500, 3000), CancellationToken.None);
            var proxy = faultRandom.Next(2) == 0 ? primaryProxy : replicaProxy;
            switch (faultRandom.Next(20))
            {
                case < 10:
                    if (proxy.CutOne(faultRandom)) stats.Faults++;
                    break;
                case < 13:
                    proxy.StallFor(TimeSpan.FromMilliseconds(faultRandom.Next(500, 4000)));
                    stats.Faults++;
                    break;
                case < 16:
                    proxy.RefuseFor(TimeSpan.FromMilliseconds(faultRandom.Next(500, 3000)));
                    stats.Faults++;
                    break;
                case < 17:
                    stats.PeakMemory = Math.Max(stats.PeakMemory, observer.PeakMemory);
                    observer.Kill();
                    await observer.DisposeAsync();
                    observer = ObserverProcess.Start("run", settings, work);
                    stats.Faults++;
                    stats.Kills++;
                    break;
            }
            stats.PeakMemory = Math.Max(stats.PeakMemory, observer.PeakMemory);
        }
        await user;
        await lag;

        Console.Error.WriteLine($"soak: faults stopped at {DateTime.Now:HH:mm:ss.fff}; differences now: {string.Join("; ", (await accounts.DifferencesAsync()).Take(5))}");
        var converged = false;
        var settle = Stopwatch.StartNew();
        List<string> differences = [];
        while (settle.Elapsed < TimeSpan.FromMinutes(5) && !converged)
        {
            differences = await accounts.DifferencesAsync();
            converged = differences.Count == 0;
            if (!converged) await Task.Delay(2000);
        }
        var primarySnapshot = await accounts.PrimarySnapshotAsync();
        var replicaSnapshot = await accounts.ReplicaSnapshotAsync();
        stats.PeakMemory = Math.Max(stats.PeakMemory, observer.PeakMemory);
        stats.Reconnects = primaryProxy.Accepted + replicaProxy.Accepted;
        observer.Terminate();
        await observer.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Console.WriteLine(stats.Table(clock.Elapsed, converged, differences, replicaSnapshot.DuplicatesAgainst(primarySnapshot),
            primarySnapshot.MessageCount, settle.Elapsed, primaryProxy.Cuts + replicaProxy.Cuts));
        Directory.Delete(work, recursive: true);
        return converged ? 0 : 1;
        }
        finally
        {
            if (logFile.Length > 0) await File.WriteAllTextAsync(logFile, observer.Errors);
            await observer.DisposeAsync();
        }
    }

    private sealed class SoakStats
    {
        public int Mutations;
        public int Faults;
        public int Kills;
        public int Reconnects;
        public int LostProbes;
        public long PeakMemory;
        public List<double> Lag { get; } = [];

        public string Table(TimeSpan elapsed, bool converged, List<string> differences, int duplicates, int messages, TimeSpan settle, int cuts)
        {
            var sb = new StringBuilder();
            sb.AppendLine("| soak | value |");
            sb.AppendLine("|---|---:|");
            sb.AppendLine(CultureInfo.InvariantCulture, $"| duration | {elapsed.TotalMinutes:0.0} min |");
            sb.AppendLine(CultureInfo.InvariantCulture, $"| mutations applied on the primary | {Mutations} |");
            sb.AppendLine(CultureInfo.InvariantCulture, $"| faults injected (cuts, stalls, refusals, kills) | {Faults + cuts} ({cuts} cuts incl. mid-stream, {Kills} SIGKILLs) |");
            sb.AppendLine(CultureInfo.InvariantCulture, $"| connections opened (reconnects) | {Reconnects} |");
            sb.AppendLine(CultureInfo.InvariantCulture, $"| final comparison (MD5, flags, dates) | {(converged ? "identical" : $"DIFFERENT: {differences.Count} differences")} ({messages} messages, settled in {settle.TotalSeconds:0} s) |");
            sb.AppendLine(CultureInfo.InvariantCulture, $"| duplicates on the replica | {duplicates} |");
            sb.AppendLine(CultureInfo.InvariantCulture, $"| peak observer memory (RSS) | {PeakMemory / 1024.0 / 1024.0:0} MB |");
            sb.AppendLine(CultureInfo.InvariantCulture, $"| append lag p50 / p95 / p99 | {Stats.Percentile(Lag, 50):0.00} / {Stats.Percentile(Lag, 95):0.00} / {Stats.Percentile(Lag, 99):0.00} s ({Lag.Count} probes, {LostProbes} not seen within 3 min) |");
            return sb.ToString();
        }
    }
}

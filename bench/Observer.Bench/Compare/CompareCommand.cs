using System.Diagnostics;
using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>
/// `compare`: Observer and its peers side by side on one local pair, same corpora, same changes,
/// every result checked message by message. Prints the report and writes it, with the plot, to
/// bench/results/.
/// </summary>
internal static class CompareCommand
{
    private const string ReadmeBegin = "<!-- bench:begin -->";
    private const string ReadmeEnd = "<!-- bench:end -->";

    public static async Task<int> RunAsync(BenchArguments args)
    {
        SyncTool[] all = [new ObserverTool(), new ObserverLowLatencyTool(), new RawCopyTool(), new InterimapTool(), new MbsyncTool(), new OfflineImapTool(), new DoveadmTool()];
        if (Environment.GetEnvironmentVariable("OBSERVER_BENCH_BEFORE_BINARY") is { Length: > 0 }) all = [all[0], new ObserverBeforeTool(), .. all[1..]];
        var options = CompareOptions.Parse(args, all.Select(t => t.Id).ToList());
        var results = new BenchResults();
        var tools = new List<SyncTool>();
        foreach (var tool in all.Where(t => options.Tools.Contains(t.Id)))
        {
            if (tool.Missing is { } why) results.Skipped.Add($"{tool.Name}: {why}");
            else tools.Add(tool);
        }
        results.Versions["dovecot"] = await OutputOfAsync("dovecot", "--version");
        foreach (var tool in tools.Where(t => t.Version.Length > 0)) results.Versions.TryAdd(tool.Name, tool.Version);
        if (Environment.GetEnvironmentVariable("OBSERVER_BENCH_BINARY") is { Length: > 0 })
            results.Notes.Add("Observer ran as it ships: `dotnet publish src/Observer -p:PublishProfile=linux-x64`, one native executable (native AOT; bench/run.sh).");
        if (tools.OfType<ObserverBeforeTool>().FirstOrDefault() is { } before)
            results.Notes.Add($"{before.Name} is an earlier build of Observer (`bench/run.sh --before`), published the same way and run interleaved with today's.");
        var clock = Stopwatch.StartNew();

        await using var servers = await BenchServers.StartAsync(options.PrimaryKind);
        results.Pair = servers.Description;
        TestAccount? small = null;
        if (options.Phases.Any(p => p is "initial" or "noop" or "incremental"))
        {
            var copies = new CopyPhases(servers, options, results);
            var copyTools = tools.Where(t => t is not ObserverLowLatencyTool).ToList();
            foreach (var corpus in options.Corpora)
            {
                var template = await FillAsync(servers, corpus, options.Seed, results);
                var runs = corpus == "large" ? options.LargeRuns : options.Runs;
                for (var run = 1; run <= runs; run++)
                {
                    // A different order each run, so no tool always runs on a cold or warm cache.
                    foreach (var tool in copyTools.Skip(run % copyTools.Count).Concat(copyTools.Take(run % copyTools.Count)))
                        await copies.RunAsync(tool, corpus, template, run);
                }
                if (corpus == "small") small = template;
                else if (servers.ClonesByCopy) Directory.Delete(BenchServers.MailDirectory(servers.Primary, template), recursive: true);
            }
        }

        var watchers = tools.Where(t => t.Watch(EmptyAccounts(servers), Path.GetTempPath()) is not null).ToList();
        if (options.Has("lag"))
        {
            var lag = new LagPhase(servers, options, results);
            foreach (var tool in watchers) await lag.RunAsync(tool, await FillAsync(servers, "small", options.Seed, results));
        }
        if (options.Has("steady") && !servers.ClonesByCopy)
        {
            results.Skipped.Add($"steady state: its 1,000-folder account is cloned as files, which only a Dovecot primary allows ({servers.Description})");
        }
        else if (options.Has("steady"))
        {
            Console.Error.WriteLine($"steady: building an account with {options.SteadyFolders} folders");
            var many = await SteadyPhase.BuildTemplateAsync((DovecotServer)servers.Primary, options.SteadyFolders);
            var steady = new SteadyPhase(servers, options, results);
            foreach (var tool in watchers.Where(t => t is not MbsyncTool)) await steady.RunAsync(tool, many);
            results.Notes.Add("mbsync has no watch mode; its busy loop is left out of the steady-state phase, where it would use a core by design.");
        }
        if (options.Has("catchup"))
        {
            small ??= await FillAsync(servers, "small", options.Seed, results);
            var catchUp = new CatchUpPhase(servers, options, results);
            foreach (var observer in tools.OfType<ObserverTool>().Where(t => t is not ObserverLowLatencyTool)) await catchUp.LiveAsync(observer, small!);
            foreach (var tool in tools.Where(t => t.SupportsIncremental && t is not ObserverLowLatencyTool)) await catchUp.OneShotAsync(tool, small!);
        }

        results.Notes.Add($"The whole benchmark took {clock.Elapsed.TotalMinutes:0} minutes.");
        await WriteAsync(results, options);
        return 0;
    }

    private static async Task<TestAccount> FillAsync(BenchServers servers, string corpus, int seed, BenchResults results)
    {
        return await servers.TemplateAsync(async client =>
        {
            // Run again for each clone where the primary cannot be copied as files.
            var clock = Stopwatch.StartNew();
            var generator = new CorpusGenerator(CorpusProfile.Parse(corpus), seed);
            var (messages, bytes) = await CorpusCommand.FillAsync(client, generator);
            if (results.Corpora.All(c => c.Name != corpus)) results.Corpora.Add(new CorpusInfo(corpus, messages, generator.Folders.Count, bytes));
            Console.Error.WriteLine($"corpus {corpus}: {messages} messages, {bytes / 1048576.0:0.0} MB, filled in {clock.Elapsed.TotalSeconds:0} s");
        });
    }

    /// <summary>Placeholder accounts, only to ask a tool whether it has a watch mode at all.</summary>
    private static PairAccounts EmptyAccounts(BenchServers servers) => new(servers.Pair, new TestAccount("-", "-"), new TestAccount("-", "-"));

    private static async Task WriteAsync(BenchResults results, CompareOptions options)
    {
        Directory.CreateDirectory(options.OutputDirectory);
        // Another primary's results sit beside the Dovecot pair's, never in their place.
        var pair = options.PrimaryKind == ServerKind.Dovecot ? "" : "-" + options.PrimaryKind.ScriptFolder();
        var svg = Path.Combine(options.OutputDirectory, $"latest{pair}.svg");
        var png = Path.Combine(options.OutputDirectory, $"latest{pair}.png");
        await File.WriteAllTextAsync(svg, Plot.Svg(results));
        var plotProblem = Plot.ToPng(svg, png);
        if (plotProblem is not null) results.Notes.Add(plotProblem);
        var picture = Path.GetFileName(plotProblem is null ? png : svg);

        var report = new CompareReport(results, options);
        var text = report.Render(picture);
        var stamped = Path.Combine(options.OutputDirectory, $"{results.Started:yyyy-MM-dd-HHmm}{pair}.md");
        var latest = Path.Combine(options.OutputDirectory, $"latest{pair}.md");
        await File.WriteAllTextAsync(stamped, text);
        await File.WriteAllTextAsync(latest, text);
        Console.WriteLine(text);
        Console.Error.WriteLine($"written: {stamped}, {latest}, {(plotProblem is null ? png : svg)}");

        if (options.UpdateReadme)
        {
            var readme = Path.Combine(RepoPaths.Root, "README.md");
            var content = await File.ReadAllTextAsync(readme);
            var begin = content.IndexOf(ReadmeBegin, StringComparison.Ordinal);
            var end = content.IndexOf(ReadmeEnd, StringComparison.Ordinal);
            if (begin < 0 || end < begin) throw new BenchException($"README.md has no {ReadmeBegin} ... {ReadmeEnd} block to put the table in");
            var relative = Path.GetRelativePath(RepoPaths.Root, Path.Combine(options.OutputDirectory, picture));
            var block = ReadmeBegin + "\n" + report.Render(relative) + ReadmeEnd;
            await File.WriteAllTextAsync(readme, content[..begin] + block + content[(end + ReadmeEnd.Length)..]);
            Console.Error.WriteLine("README.md updated");
        }
    }

    private static async Task<string> OutputOfAsync(string program, params string[] args)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var text = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            return text.Trim();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}

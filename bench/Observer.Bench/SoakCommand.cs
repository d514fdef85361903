using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>
/// `soak`: the randomized convergence scenario of the test suite (issue 8), for as long as asked:
/// a fresh pair of any two server kinds, observer behind fault proxies, several clients of a busy
/// user on the primary, probes, cuts, stalls and SIGKILLs; then a full comparison. Prints the report.
/// </summary>
internal static class SoakCommand
{
    public static async Task<int> RunAsync(BenchArguments args)
    {
        var minutes = args.Number("minutes", 10);
        var extra = new Dictionary<string, string>();
        if (args.Flag("debug")) extra["Logging:LogLevel:Observer"] = "Debug";
        if (args.Flag("trace")) extra["Logging:LogLevel:Observer.Imap.Protocol"] = "Trace";
        var options = new ConvergenceOptions(Kind(args, "primary"), Kind(args, "replica"), args.Number("seed", 1234))
        {
            Activity = TimeSpan.FromMinutes(minutes),
            Clients = args.Number("clients", 3),
            InitialMessages = args.Number("messages", 500),
            Stalls = !args.Flag("no-stalls"),
            ConvergeWithin = TimeSpan.FromMinutes(5),
            ExtraSettings = extra,
            Progress = line => Console.Error.WriteLine($"soak {DateTime.Now:HH:mm:ss}: {line}"),
        };
        var result = await ConvergenceScenario.RunAsync(options);
        Console.WriteLine(result.Report());
        var logFile = args.Text("log", "");
        if (logFile.Length > 0) await File.WriteAllTextAsync(logFile, result.ObserverLog);
        return result.Passed ? 0 : 1;
    }

    private static ServerKind Kind(BenchArguments args, string side)
    {
        try
        {
            return ServerKinds.Parse(args.Text(side, "dovecot"));
        }
        catch (ArgumentException ex)
        {
            throw new BenchException($"--{side}: {ex.Message}");
        }
    }
}

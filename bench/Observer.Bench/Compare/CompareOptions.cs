namespace Observer.Bench;

/// <summary>What `compare` runs: which corpora, tools and phases, how often, with which limits.</summary>
internal sealed record CompareOptions
{
    public static readonly string[] AllPhases = ["initial", "noop", "incremental", "lag", "steady", "catchup"];
    public static readonly string[] AllCorpora = ["small", "mixed", "large"];

    public required IReadOnlyList<string> Corpora { get; init; }
    public required IReadOnlyList<string> Phases { get; init; }
    public required IReadOnlyList<string> Tools { get; init; }
    /// <summary>The primary's kind; the replica is always Dovecot, which `doveadm backup` needs.</summary>
    public Observer.TestSupport.ServerKind PrimaryKind { get; init; } = Observer.TestSupport.ServerKind.Dovecot;
    public int Runs { get; init; } = 3;
    public int LargeRuns { get; init; } = 1;
    public int Seed { get; init; } = 42;
    public int Mutations { get; init; } = 200;
    public int CatchUpChanges { get; init; } = 1000;
    public int LagProbes { get; init; } = 100;
    public int SteadyFolders { get; init; } = 1000;
    public TimeSpan SteadyWindow { get; init; } = TimeSpan.FromMinutes(2);
    public TimeSpan IdleWindow { get; init; } = TimeSpan.FromMinutes(1);
    public TimeSpan RunTimeout { get; init; } = TimeSpan.FromMinutes(20);
    public string OutputDirectory { get; init; } = "bench/results";
    public bool UpdateReadme { get; init; }

    public bool Has(string phase) => Phases.Contains(phase, StringComparer.Ordinal);

    public static CompareOptions Parse(BenchArguments args, IReadOnlyList<string> knownTools)
    {
        var quick = args.Flag("quick");
        var options = new CompareOptions
        {
            Corpora = List(args.Text("corpus", quick ? "small" : string.Join(',', AllCorpora)), AllCorpora, "corpus"),
            Phases = List(args.Text("phases", string.Join(',', AllPhases)), AllPhases, "phases"),
            Tools = List(args.Text("tools", string.Join(',', knownTools)), knownTools, "tools"),
            PrimaryKind = Kind(args.Text("primary", "dovecot")),
            Runs = Positive(args.Number("runs", quick ? 1 : 3), "runs"),
            LargeRuns = Positive(args.Number("large-runs", 1), "large-runs"),
            Seed = args.Number("seed", 42),
            Mutations = Positive(args.Number("mutations", 200), "mutations"),
            CatchUpChanges = Positive(args.Number("catchup-changes", 1000), "catchup-changes"),
            LagProbes = Positive(args.Number("probes", quick ? 20 : 100), "probes"),
            SteadyFolders = Positive(args.Number("steady-folders", 1000), "steady-folders"),
            SteadyWindow = TimeSpan.FromSeconds(Positive(args.Number("steady-seconds", quick ? 30 : 120), "steady-seconds")),
            IdleWindow = TimeSpan.FromSeconds(Positive(args.Number("idle-seconds", quick ? 20 : 60), "idle-seconds")),
            RunTimeout = TimeSpan.FromMinutes(Positive(args.Number("timeout-minutes", 20), "timeout-minutes")),
            OutputDirectory = args.Text("out", Path.Combine(Observer.TestSupport.RepoPaths.Root, "bench", "results")),
            UpdateReadme = args.Flag("readme"),
        };
        if (options.UpdateReadme && options.PrimaryKind != Observer.TestSupport.ServerKind.Dovecot)
            throw new BenchException($"--readme refreshes the Dovecot pair's table; a {options.PrimaryKind} primary's results go to bench/results only (leave out --readme)");
        return options;
    }

    private static List<string> List(string text, IReadOnlyList<string> known, string key)
    {
        var items = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        foreach (var item in items.Where(i => !known.Contains(i, StringComparer.Ordinal)))
            throw new BenchException($"--{key} has '{item}'; choose from {string.Join(", ", known)}");
        return items;
    }

    private static Observer.TestSupport.ServerKind Kind(string text)
    {
        try
        {
            return Observer.TestSupport.ServerKinds.Parse(text);
        }
        catch (ArgumentException ex)
        {
            throw new BenchException($"--primary: {ex.Message}");
        }
    }

    private static int Positive(int value, string key) => value > 0 ? value : throw new BenchException($"--{key} must be at least 1");
}

using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Tests.Convergence;

/// <summary>
/// The randomized convergence test of issue 8, on every ordered pair of Dovecot, Cyrus and Courier:
/// a seeded user on the primary with several clients, probes, connection cuts and SIGKILLs while
/// `observer run` is live; then the replica must equal the primary, hold no duplicates, and observer
/// must fall quiet. Replay a failure with its seed (OBSERVER_CONVERGENCE_SEED), or longer with
/// `observer-bench soak --primary KIND --replica KIND --seed N --minutes M`.
/// </summary>
[NonParallelizable]
public class ConvergenceTests
{
    /// <summary>The seed CI runs: fixed, so a red run can be replayed exactly; OBSERVER_CONVERGENCE_SEED picks another.</summary>
    private const int DefaultSeed = 4242;

    /// <summary>
    /// Pairs that fail with an open bug, kept visible and runnable (`--filter`, or Explicit in an IDE)
    /// rather than deleted, each with what goes wrong. Issue 8 stays open until this list is empty.
    /// </summary>
    private static readonly Dictionary<(ServerKind, ServerKind), string> KnownFailures = new()
    {
        // Empty: every pair passes with the default seed. A pair that fails with an open bug is listed here
        // with what goes wrong, rather than deleted.
    };

    /// <summary>Every ordered pair of two different kinds, and Dovecot to Dovecot: 7 cases.</summary>
    private static IEnumerable<TestCaseData> Pairs() =>
        from primary in ServerKinds.All
        from replica in ServerKinds.All
        where primary != replica || primary == ServerKind.Dovecot
        let data = new TestCaseData(primary, replica).SetName($"Convergence_{primary}To{replica}_ReplicaEqualsPrimaryWithoutDuplicatesAndObserverStaysLive")
        select KnownFailures.TryGetValue((primary, replica), out var bug) ? data.Explicit("open bug: " + bug) : data;

    [TestCaseSource(nameof(Pairs))]
    public async Task ReplicaConverges(ServerKind primary, ServerKind replica)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("OBSERVER_CONVERGENCE_SEED"), out var s) ? s : DefaultSeed;
        var result = await ConvergenceScenario.RunAsync(new ConvergenceOptions(primary, replica, seed)
        {
            Progress = line => TestContext.Progress.WriteLine($"{DateTime.Now:HH:mm:ss} {line}"),
        });
        await TestContext.Out.WriteLineAsync(result.Report());
        Assert.That(result.Failures, Is.Empty, result.Report);
        // The run must have exercised what it claims to, or a pass would mean little.
        Assert.That(result.MutationCount, Is.GreaterThan(150), result.Summary);
        Assert.That(result.Kills, Is.GreaterThanOrEqualTo(1), result.Summary);
        Assert.That(result.Probes, Is.Not.Empty, result.Summary);
    }
}

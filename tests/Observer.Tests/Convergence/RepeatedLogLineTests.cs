using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>
/// The convergence test's busy-loop check: a line said again and again is a loop, while distinct folders
/// whose names differ only in a number are distinct lines (a 30-minute soak failed on ten folder deletions).
/// </summary>
public class RepeatedLogLineTests
{
    private static string Log(IEnumerable<string> texts) =>
        string.Join('\n', texts.Select((t, i) => $"2026-12-01 23:10:{i:00}.000 info: Observer.Replication[2022] {t}"));

    private static readonly DateTime Start = new(2026, 12, 1, 23, 0, 0);

    [Test]
    public void DistinctFoldersWithNumberedNames_AreNotRepeats_WhenTheirNamesAreKnown()
    {
        var names = Enumerable.Range(1, 10).Select(i => $"Trips {i * 7}").ToList();
        var log = Log(names.Select(n => $"folder {n} deleted on the replica"));
        Assert.That(ObserverLog.Repeated(log, Start, 5, names), Is.Empty);
        Assert.That(ObserverLog.Repeated(log, Start, 5), Has.Count.EqualTo(1), "without the names, numbers are masked and they look alike");
    }

    [Test]
    public void OneLineAgainAndAgain_DifferingInCountsOnly_IsARepeat_EvenWithNamesKnown()
    {
        var log = Log(Enumerable.Range(1, 10).Select(i => $"folder Trips 7: deletions held back: {i} of 12 folders vanished"));
        var repeated = ObserverLog.Repeated(log, Start, 5, ["Trips 7"]);
        Assert.That(repeated, Has.Count.EqualTo(1));
        Assert.That(repeated[0].Count, Is.EqualTo(10));
    }

    [Test]
    public void DebugLines_AreNotCounted_AnInfoLineAsOftenIs()
    {
        var lines = Enumerable.Range(1, 10).Select(i => $"2026-12-01 23:10:{i:00}.000 dbug: Observer.Replication[2003] Archive: expunged replica uid {i}").ToList();
        Assert.That(ObserverLog.Repeated(string.Join('\n', lines), Start, 5), Is.Empty, "a soak run with --debug logs every expunge");
        var asInfo = string.Join('\n', lines.Select(l => l.Replace(" dbug: ", " info: ")));
        Assert.That(ObserverLog.Repeated(asInfo, Start, 5), Has.Count.EqualTo(1));
    }

    [Test]
    public void FolderPaths_AreThoseCreatedAndRenamedTo()
    {
        var log = new MutationLog();
        log.Record("user-1", "create Mutant/F1x22");
        log.Record("user-1", "rename Mutant/F1x22 to Caf\u00e9 r7");
        log.Record("user-2", "delete Caf\u00e9 r7");
        log.Record("faults", "cut one connection to the primary");
        Assert.That(log.FolderPaths(), Is.EqualTo(new[] { "Mutant/F1x22", "Caf\u00e9 r7" }));
    }
}

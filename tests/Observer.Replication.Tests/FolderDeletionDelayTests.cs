using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

public class FolderDeletionDelayTests
{
    [Test]
    public void AFolderIsDueOnlyAfterStayingGoneForTheWholeDelay()
    {
        var clock = new ManualTimeProvider();
        var delay = new FolderDeletionDelay(TimeSpan.FromSeconds(10), clock);
        Assert.That(delay.IsDue("Box"), Is.False, "first sight starts the clock");
        Assert.That(delay.NextDue(), Is.EqualTo(clock.GetUtcNow() + TimeSpan.FromSeconds(10)));
        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.That(delay.IsDue("Box"), Is.False);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.That(delay.IsDue("Box"), Is.True);
    }

    [Test]
    public void AFolderThatComesBack_StartsAgainFromZero()
    {
        var clock = new ManualTimeProvider();
        var delay = new FolderDeletionDelay(TimeSpan.FromSeconds(10), clock);
        delay.IsDue("Box");
        clock.Advance(TimeSpan.FromSeconds(8));
        delay.Forget(["Box"]);
        Assert.That(delay.NextDue(), Is.Null);
        clock.Advance(TimeSpan.FromSeconds(8));
        Assert.That(delay.IsDue("Box"), Is.False, "the earlier absence does not count");
    }

    [Test]
    public void WithoutADelay_EveryDeletionIsDueAtOnce_AndNothingWaits()
    {
        Assert.That(FolderDeletionDelay.None.IsDue("Box"), Is.True);
        Assert.That(FolderDeletionDelay.None.NextDue(), Is.Null);
    }

    [Test]
    public void OnlyTheClocksOfFoldersStillGoneAreKept()
    {
        var clock = new ManualTimeProvider();
        var delay = new FolderDeletionDelay(TimeSpan.FromSeconds(10), clock);
        delay.IsDue("Renamed");
        clock.Advance(TimeSpan.FromSeconds(2));
        delay.IsDue("Gone");
        delay.Retain(["Gone"]);
        Assert.That(delay.NextDue(), Is.EqualTo(clock.GetUtcNow() + TimeSpan.FromSeconds(10)), "the renamed folder's clock went");
        delay.Retain([]);
        Assert.That(delay.NextDue(), Is.Null);
    }
}

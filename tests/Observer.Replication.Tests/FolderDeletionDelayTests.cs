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
    public void ADelayedReplicasClock_IsKeptInTheState_AndADeferredFolderStillWaitsTheWholeDelay()
    {
        var directory = Directory.CreateTempSubdirectory("observer-gone-").FullName;
        try
        {
            var clock = new ManualTimeProvider();
            using var store = Observer.State.StateStore.Open(Path.Combine(directory, "state.db"), clock);
            store.WaitUntilOpen();
            var replica = store.Replicas.Ensure("yesterday", "p", "r", mode: "delayed", delaySeconds: 3600).Replica.Id;
            store.Folders.Add(replica, "Box", "Box");
            store.Folders.Add(replica, "Other", "Other");
            var delay = new FolderDeletionDelay(TimeSpan.FromHours(1), clock, new GoneClocks(store, replica));
            // A tree sync out of time defers a folder it has not even looked at yet: for a delayed replica that is a first sight, not a due deletion.
            delay.Defer("Box");
            Assert.That(delay.IsDue("Box"), Is.False);
            Assert.That(delay.IsDue("Other"), Is.False);
            clock.Advance(TimeSpan.FromMinutes(30));

            var again = new FolderDeletionDelay(TimeSpan.FromHours(1), clock, new GoneClocks(store, replica));
            Assert.That(again.IsDue("Box"), Is.False, "after a restart, the clock goes on from the state");
            clock.Advance(TimeSpan.FromMinutes(30));
            Assert.That(again.IsDue("Box"), Is.True);
            again.Forget(["Box"]);
            Assert.That(store.Folders.Find(replica, "Box")!.GoneSince, Is.Null);
            Assert.That(store.Folders.Find(replica, "Other")!.GoneSince, Is.EqualTo(clock.GetUtcNow() - TimeSpan.FromHours(1)));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
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

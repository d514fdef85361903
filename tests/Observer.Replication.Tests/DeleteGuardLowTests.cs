using NUnit.Framework;
using Observer.State;

namespace Observer.Replication.Tests;

/// <summary>The folder's smallest recent size, which the delete guard measures a shrink from.</summary>
public class DeleteGuardLowTests
{
    private static readonly DateTimeOffset Seen = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    private static FolderRecord Folder(uint? low, DateTimeOffset? at, uint uidValidity = 7) =>
        new() { PrimaryName = "INBOX", ReplicaName = "INBOX", PrimaryUidValidity = uidValidity, PrimaryLow = low, PrimaryLowAt = at };

    [TestCase(40u, 1, 40u, true, TestName = "a smaller size is the new low")]
    [TestCase(60u, 1, 50u, false, TestName = "a larger size within the window keeps the low and its time")]
    [TestCase(60u, 25, 60u, true, TestName = "a low older than the window gives way to today's size")]
    public void RememberLow(uint messages, int hoursLater, uint expectedLow, bool movedOn)
    {
        var now = Seen.AddHours(hoursLater);
        var (low, at) = DeleteGuard.RememberLow(Folder(50, Seen), 7, messages, now);
        Assert.That((low, at), Is.EqualTo(((uint?)expectedLow, (DateTimeOffset?)(movedOn ? now : Seen))));
    }

    [Test]
    public void RememberLow_RecreatedFolder_StartsAfresh() =>
        Assert.That(DeleteGuard.RememberLow(Folder(5, Seen), 8, 60, Seen.AddHours(1)).Low, Is.EqualTo(60u));

    [Test]
    public void RememberLow_NoSizeThisTime_KeepsWhatItHad() =>
        Assert.That(DeleteGuard.RememberLow(Folder(50, Seen), 7, null, Seen.AddHours(1)), Is.EqualTo(((uint?)50u, (DateTimeOffset?)Seen)));

    [TestCase(50u, null, TestName = "back within the swing the folder showed")]
    [TestCase(null, "from 70 to 50 messages while", TestName = "no low: measured from the checkpoint")]
    public void Check_WeighsTheShrinkFromTheFewestRecentSize(uint? low, string? held)
    {
        var facts = new GuardFacts("INBOX", Deletions: 22, ReplicaMessages: 70, PrimaryMessages: 50, Witnessed: false, Continuous: true, PrimaryBefore: 70, PrimaryLow: low);
        var reason = DeleteGuard.Check(facts, new ReplicationOptions());
        if (held is null) Assert.That(reason, Is.Null);
        else Assert.That(reason, Does.Contain(held));
    }

    /// <summary>
    /// A first sync over a replica that holds more than the primary (the state lost, or a new Observer on an old copy)
    /// holds the deletions and records no size before them: the next pass must hold them again, not take the unknown size
    /// for a folder that never shrank.
    /// </summary>
    [Test]
    public void Check_HeldAtAFirstSync_IsHeldAgainAtTheNext()
    {
        var first = new GuardFacts("Lists", Deletions: 900, ReplicaMessages: 1500, PrimaryMessages: 600, Witnessed: false, Continuous: false, PrimaryBefore: null);
        Assert.That(DeleteGuard.Check(first, new ReplicationOptions()), Does.Contain("would delete 900 of 1500"));
        var next = first with { Continuous = true };
        Assert.That(DeleteGuard.Check(next, new ReplicationOptions()), Does.Contain("would delete 900 of 1500"));
    }
}

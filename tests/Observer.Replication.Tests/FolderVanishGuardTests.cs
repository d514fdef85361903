using NUnit.Framework;

namespace Observer.Replication.Tests;

/// <summary>When folders vanishing from the primary's list are held: most folders, and a real share of the mail.</summary>
public class FolderVanishGuardTests
{
    private static readonly ReplicationOptions Defaults = new();

    [TestCase(3, 4, 30, 10, true, TestName = "Three of four folders with most of the mail: held")]
    [TestCase(2, 2, 500, 0, false, TestName = "Two folders are never a mass vanish")]
    [TestCase(3, 6, 300, 0, false, TestName = "Half of the folders is not most of them")]
    [TestCase(5, 9, 40, 2000, false, TestName = "Five small folders of nine, the mail kept: a tidy-up")]
    [TestCase(5, 9, 10, 0, false, TestName = "No more copies than the floor: nothing worth holding")]
    [TestCase(5, 9, 11, 0, true, TestName = "One copy over the floor, nothing kept: held")]
    [TestCase(4, 5, 21, 79, true, TestName = "Just over the share: held")]
    [TestCase(4, 5, 20, 80, false, TestName = "At the share exactly: not held")]
    public void Check(int vanishing, int present, long copies, long kept, bool held)
    {
        var reason = FolderVanishGuard.Check(vanishing, present, () => copies, () => kept, Defaults);
        Assert.That(reason is not null, Is.EqualTo(held), reason ?? "not held");
        if (held) Assert.That(reason, Does.StartWith($"{vanishing} of {present} folders vanished from the primary at once"));
    }

    [TestCase(2, 10, TestName = "Two folders gone of ten: no message is counted")]
    [TestCase(4, 10, TestName = "Four folders gone of ten: no message is counted")]
    public void FoldersAloneSettleIt_NoMessagesAreCounted(int vanishing, int present)
    {
        // Counting is a query per folder; a deletion of a few folders among many needs none.
        var counted = 0;
        var reason = FolderVanishGuard.Check(vanishing, present, () => { counted++; return 1_000; }, () => { counted++; return 0; }, Defaults);
        Assert.That((reason, counted), Is.EqualTo(((string?)null, 0)));
    }
}

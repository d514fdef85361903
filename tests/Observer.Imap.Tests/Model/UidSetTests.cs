using NUnit.Framework;

namespace Observer.Imap.Tests;

public class UidSetTests
{
    [Test]
    public void FromUids_MergesRuns()
    {
        Assert.That(UidSet.FromUids([5, 1, 2, 3, 9, 10, 3]).ToString(), Is.EqualTo("1:3,5,9:10"));
    }

    [Test]
    public void Parse_KeepsOrder_AndReversedRanges()
    {
        var set = UidSet.Parse("304,319:320,12:10");
        Assert.That(set.Expand(), Is.EqualTo(new uint[] { 304, 319, 320, 10, 11, 12 }));
    }

    [Test]
    public void Star_FormatsAndCannotExpand()
    {
        Assert.That(UidSet.All.ToString(), Is.EqualTo("1:*"));
        Assert.Throws<InvalidOperationException>(() => UidSet.All.Expand().ToList());
    }

    [TestCase("")]
    [TestCase("0")]
    [TestCase("1,,2")]
    [TestCase("a:3")]
    [TestCase("-1")]
    public void TryParse_RejectsGarbage(string text)
    {
        Assert.That(UidSet.TryParse(text, out _), Is.False);
    }

    [Test]
    public void Chunk_SplitsIntoBoundedSets()
    {
        var chunks = UidSet.Range(1, 10).Chunk(4).Select(c => c.ToString()).ToList();
        Assert.That(chunks, Is.EqualTo(new[] { "1:4", "5:8", "9:10" }));
    }

    [Test]
    public void CountAndContains()
    {
        var set = UidSet.Parse("1:3,7");
        Assert.That((set.Count, set.Contains(7), set.Contains(5)), Is.EqualTo((4L, true, false)));
    }
}

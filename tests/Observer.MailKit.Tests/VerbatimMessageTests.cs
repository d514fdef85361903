using MimeKit;
using MimeKit.IO;
using NUnit.Framework;

namespace Observer.MailKit.Tests;

/// <summary>
/// The self-test of the MimeKit behaviour <see cref="VerbatimMessage"/> relies on, written the way
/// MailKit writes an APPEND literal: measured first, then sent with CRLF line ends and EnsureNewLine.
/// </summary>
public class VerbatimMessageTests
{
    private static FormatOptions AsMailKitAppends()
    {
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        options.EnsureNewLine = true;
        return options;
    }

    private static IEnumerable<TestCaseData> Hostile() => HostileMessages.All.Select(m => new TestCaseData(m.Bytes).SetArgDisplayNames(m.Name));

    [TestCaseSource(nameof(Hostile))]
    public async Task WrittenAsMailKitAppendsIt_IsTheOriginalBytes_AndIsMeasuredWithoutBeingRead(byte[] original)
    {
        var opened = 0;
        var message = VerbatimMessage.From(original.Length, () =>
        {
            opened++;
            return new MemoryStream(original, writable: false);
        });

        using var measuring = new MeasuringStream();
        message.WriteTo(AsMailKitAppends(), measuring);
        Assert.That(measuring.Length, Is.EqualTo(original.Length), "the literal's announced length");
        Assert.That(opened, Is.Zero, "measuring does not read the message");

        using var written = new MemoryStream();
        message.WriteTo(AsMailKitAppends(), written);
        Assert.That(written.ToArray(), Is.EqualTo(original), "written");
        using var writtenAsync = new MemoryStream();
        await message.WriteToAsync(AsMailKitAppends(), writtenAsync);
        Assert.That(writtenAsync.ToArray(), Is.EqualTo(original), "written asynchronously");
    }

    [Test]
    public void ParsedAndWrittenAgain_SomeOfTheseMessagesChange_WhichIsWhyTheBytesGoOutAsTheyAre()
    {
        var changed = new List<string>();
        foreach (var (name, bytes) in HostileMessages.All)
        {
            try
            {
                using var input = new MemoryStream(bytes);
                var parsed = MimeMessage.Load(input);
                using var output = new MemoryStream();
                parsed.WriteTo(AsMailKitAppends(), output);
                if (!output.ToArray().AsSpan().SequenceEqual(bytes)) changed.Add(name);
            }
            catch (FormatException)
            {
                changed.Add(name + " (not loaded)");
            }
        }
        Assert.That(changed, Is.Not.Empty);
        TestContext.Out.WriteLine($"changed by a parse-and-write round trip: {string.Join(", ", changed)}");
    }

    [Test]
    public void AReleasedMessage_MadeAgainForOtherBytes_WritesOnlyThoseBytes_AndForgetsTheOld()
    {
        var messages = HostileMessages.All.Where(m => m.Bytes.Length < 100_000).ToList();
        var reused = 0;
        MimeMessage? previous = null;
        foreach (var (name, bytes) in messages)
        {
            var message = VerbatimMessage.From(bytes);
            if (ReferenceEquals(message, previous)) reused++;
            using (var written = new MemoryStream())
            {
                message.WriteTo(AsMailKitAppends(), written);
                Assert.That(written.ToArray(), Is.EqualTo(bytes), name);
            }
            VerbatimMessage.Release(message);
            using (var afterRelease = new MemoryStream())
            {
                message.WriteTo(AsMailKitAppends(), afterRelease);
                Assert.That(afterRelease.Length, Is.Zero, $"{name}: a released message holds no body");
            }
            previous = message;
        }
        // Other fixtures may run at the same time and take a released message first: most are still reused.
        Assert.That(reused, Is.GreaterThan(messages.Count / 2), "released messages are made again");
    }

    [Test]
    public void AMessageThatIsShorterThanAnnounced_FailsToBeSent_RatherThanBreakTheLiteral()
    {
        var bytes = HostileMessages.All[0].Bytes;
        var message = VerbatimMessage.From(bytes.Length + 1, () => new MemoryStream(bytes));
        using var output = new MemoryStream();
        var error = Assert.ThrowsAsync<IOException>(() => message.WriteToAsync(AsMailKitAppends(), output));
        Assert.That(error!.Message, Does.Contain($"{bytes.Length} bytes read where {bytes.Length + 1} were announced"));
    }
}

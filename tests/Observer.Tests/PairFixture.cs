using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Tests;

[SetUpFixture]
public class PairFixture
{
    private static DovecotPair? _pair;

    public static DovecotPair Pair => _pair ?? throw new InvalidOperationException("pair not started");

    [OneTimeSetUp]
    public async Task StartAsync() => _pair = await DovecotPair.StartAsync("cli");

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_pair is not null) await _pair.DisposeAsync();
    }
}

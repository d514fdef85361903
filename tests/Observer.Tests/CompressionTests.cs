using System.Text.RegularExpressions;
using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>
/// COMPRESS=DEFLATE (RFC 4978) against a Dovecot pair that offers it (imap_zlib): asked for when the
/// settings say so, never on loopback by default, and every copy still exact through it.
/// </summary>
[NonParallelizable]
public class CompressionTests
{
    private const string OfferCompression = "protocol imap {\n  mail_plugins = $mail_plugins imap_zlib\n}\n";
    private DovecotPair _pair = null!;
    private string _dir = "";

    [OneTimeSetUp]
    public async Task StartAsync() => _pair = await DovecotPair.StartAsync("compress", replicaExtraConfig: OfferCompression, primaryExtraConfig: OfferCompression);

    [OneTimeTearDown]
    public async Task StopAsync() => await _pair.DisposeAsync();

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-compress-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task CompressOn_BothSidesCompress_AndTheCopyIsExact()
    {
        var accounts = await FilledAccountsAsync();
        var settings = TracedSettings(accounts);
        settings["Primary:Compress"] = "On";
        settings["Replica:Compress"] = "On";

        var (code, _, errors) = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(2));

        Assert.That(code, Is.Zero, errors);
        Assert.That(CompressedConnections(errors, "primary"), Is.GreaterThan(0), "the primary's connections were compressed");
        Assert.That(CompressedConnections(errors, "replica"), Is.GreaterThan(0), "the replica's connections were compressed");
        Assert.That(errors, Does.Match(@"replica/\S+ C: \S+ UID FETCH"), "the trace reads the compressed conversation as text");
        Assert.That(await accounts.DifferencesAsync(), Is.Empty);
    }

    [Test]
    public async Task CompressAuto_OnLoopback_DoesNotAskForIt()
    {
        var accounts = await FilledAccountsAsync();
        var (code, _, errors) = await ObserverProcess.RunAsync("sync", TracedSettings(accounts), _dir, TimeSpan.FromMinutes(2));

        Assert.That(code, Is.Zero, errors);
        Assert.That(errors, Does.Contain("COMPRESS=DEFLATE"), "the servers offered it");
        Assert.That(CompressedConnections(errors, "primary") + CompressedConnections(errors, "replica"), Is.Zero);
        Assert.That(await accounts.DifferencesAsync(), Is.Empty);
    }

    private async Task<PairAccounts> FilledAccountsAsync()
    {
        var accounts = await _pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 40);
        await MailFactory.FillAsync(primary, "Archive", 15);
        return accounts;
    }

    private Dictionary<string, string> TracedSettings(PairAccounts accounts)
    {
        var settings = accounts.Settings(Path.Combine(_dir, "state.db"));
        settings["Logging:LogLevel:Default"] = "Warning";
        settings["Logging:LogLevel:Observer.Imap.Protocol"] = "Trace";
        return settings;
    }

    private static int CompressedConnections(string trace, string side) =>
        Regex.Count(trace, $@"{side}/\S+ C: \S+ COMPRESS DEFLATE");
}

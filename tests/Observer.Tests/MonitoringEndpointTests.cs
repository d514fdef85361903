using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using NUnit.Framework;
using Observer.Cli;
using Observer.Mail;
using Observer.TestSupport;
using PuppeteerSharp;

namespace Observer.Tests;

/// <summary>
/// `observer run` with Http:Url against the real Dovecot pair: /metrics scraped and parsed while it replicates,
/// /healthz following the replica's connection, and the status page as headless Chromium shows it.
/// </summary>
public class MonitoringEndpointTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-monitoring-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string StatePath => Path.Combine(_dir, "state.db");

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(20) };

    [Test]
    public async Task Metrics_AreScrapedWhileReplicating_AndHealthzFollowsTheReplicasConnection()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using (var filler = await accounts.PrimaryClientAsync()) await MailFactory.FillAsync(filler, "INBOX", 5);
        await using var replicaProxy = FaultProxy.Start(PairFixture.Pair.Replica.Host, PairFixture.Pair.Replica.Port);
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        var settings = accounts.Settings(StatePath);
        settings["Replica:Port"] = replicaProxy.Port.ToString(CultureInfo.InvariantCulture);
        settings["Http:Url"] = url;
        await using var observer = ObserverProcess.Start("run", settings, _dir);
        await Eventually.HoldsAsync(async () => (await GetAsync(url + "/healthz")).Status == HttpStatusCode.OK, TimeSpan.FromSeconds(60),
            async () => (await GetAsync(url + "/healthz")).Body + observer.Errors);

        await using (var primary = await accounts.PrimaryClientAsync())
            for (var i = 0; i < 3; i++) await primary.AppendAsync("INBOX", MailFactory.Message($"live {i}"));
        var unit = """account="",replica="replica"  """.Trim();
        Dictionary<string, double> metrics = [];
        await Eventually.HoldsAsync(async () =>
        {
            metrics = Parse(await ScrapeAsync(url));
            return metrics.GetValueOrDefault($"observer_messages{{{unit}}}") == 8 && metrics.GetValueOrDefault($"observer_messages_copied_total{{{unit}}}") == 8;
        }, TimeSpan.FromSeconds(30), () => Task.FromResult(string.Join("\n", metrics.Select(m => $"{m.Key} {m.Value}")) + observer.Errors));
        Assert.That(metrics.GetValueOrDefault($"observer_messages_copied_total{{{unit}}}"), Is.EqualTo(8), string.Join("\n", metrics.Select(m => $"{m.Key} {m.Value}")));
        Assert.That(metrics[$"observer_writes_total{{{unit},kind=\"append\"}}"], Is.EqualTo(8));
        Assert.That(metrics[$"observer_bytes_copied_total{{{unit}}}"], Is.GreaterThan(8 * 100));
        Assert.That(metrics[$"observer_service_up{{{unit}}}"], Is.EqualTo(1));
        Assert.That(metrics[$"observer_connected{{{unit},server=\"primary\"}}"], Is.EqualTo(1));
        Assert.That(metrics[$"observer_connected{{{unit},server=\"replica\"}}"], Is.EqualTo(1));
        Assert.That(metrics[$"observer_watch_mode{{{unit},mode=\"notify\"}}"], Is.EqualTo(1));
        Assert.That(metrics[$"observer_health{{{unit}}}"], Is.Zero);
        Assert.That(metrics[$"observer_folders_in_trouble{{{unit}}}"], Is.Zero);
        Assert.That(metrics, Does.ContainKey($"observer_replication_lag_seconds{{{unit}}}"));

        // The replica goes away: the next write finds out, and /healthz and the gauges say so.
        replicaProxy.RefuseFor(TimeSpan.FromHours(1));
        replicaProxy.CutAll();
        await using (var primary = await accounts.PrimaryClientAsync()) await primary.AppendAsync("INBOX", MailFactory.Message("while the replica is away"));
        (HttpStatusCode Status, string Body) health = default;
        await Eventually.HoldsAsync(async () => (health = await GetAsync(url + "/healthz")).Status == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(60),
            () => Task.FromResult(health.Body + observer.Errors));
        Assert.That(health.Body, Does.Contain("the replica is unavailable"));
        metrics = Parse(await ScrapeAsync(url));
        Assert.That(metrics[$"observer_connected{{{unit},server=\"replica\"}}"], Is.Zero);
        Assert.That(metrics[$"observer_health{{{unit}}}"], Is.EqualTo(2));
        Assert.That(metrics[$"observer_errors_total{{{unit},kind=\"connection\"}}"], Is.GreaterThanOrEqualTo(1));

        replicaProxy.RefuseFor(TimeSpan.Zero);
        await Eventually.HoldsAsync(async () => (health = await GetAsync(url + "/healthz")).Status == HttpStatusCode.OK
                                                && Parse(await ScrapeAsync(url)).GetValueOrDefault($"observer_messages{{{unit}}}") == 9, TimeSpan.FromSeconds(90),
            () => Task.FromResult(health.Body + observer.Errors));
        Assert.That((await GetAsync(url + "/nowhere")).Status, Is.EqualTo(HttpStatusCode.NotFound));

        observer.Terminate();
        Assert.That(await observer.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.Zero, observer.Errors);
    }

    [Test]
    public async Task StatusPage_InChromium_ShowsAHeldDeletionWithItsApproveCommand_AndRefreshesItselfOnceApproved()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "Big", 40);
        var settings = accounts.Settings(StatePath);
        Assert.That((await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(1))).ExitCode, Is.Zero);
        await primary.SelectAsync("Big");
        await primary.UidStoreAsync(UidSet.Range(1, 30), StoreMode.Add, new MessageFlags(["\\Deleted"]));
        await primary.UidExpungeAsync(UidSet.Range(1, 30));

        var url = $"http://127.0.0.1:{FreePort.Next()}/";
        settings["Http:Url"] = url;
        await using var observer = ObserverProcess.Start("run", settings, _dir);
        await using var browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            Headless = true, ExecutablePath = ChromiumPath(),
            // Root in CI has no user namespaces for Chromium's sandbox; the page is our own, on loopback.
            Args = ["--no-sandbox", "--disable-gpu"],
        });
        await using var page = await browser.NewPageAsync();
        await Eventually.HoldsAsync(async () =>
        {
            try
            {
                return (await page.GoToAsync(url))?.Status == HttpStatusCode.OK;
            }
            catch (NavigationException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), () => Task.FromResult(observer.Errors));

        // No reload from here on: what changes, the page's own refresh brings.
        await page.WaitForFunctionAsync("() => document.body.innerText.includes('observer approve Big')", new WaitForFunctionOptions { Timeout = 60_000 });
        var seen = await page.EvaluateExpressionAsync<string>("document.body.innerText");
        Assert.That(await page.EvaluateExpressionAsync<string>("document.getElementById('health').innerText"), Does.StartWith("Health: needs attention"));
        Assert.That(seen, Does.Contain("Held deletions"));
        var hold = await page.EvaluateExpressionAsync<string>("document.querySelector('#holds tbody tr').innerText");
        Assert.That(hold, Does.Contain("Big").And.Contain("deleting 30 messages").And.Contain("the primary folder shrank from 40 to 10").And.Contain("observer approve Big"));
        Assert.That(await page.EvaluateExpressionAsync<string>("document.querySelector('#replicas tbody tr').innerText"), Does.Contain("running (pid"));
        Assert.That(await page.EvaluateExpressionAsync<bool>("document.querySelector('#holds code').getBoundingClientRect().width > 0"), Is.True, "the command shows");

        var approve = await ObserverProcess.RunAsync("approve", settings, _dir, TimeSpan.FromSeconds(30), "Big");
        Assert.That(approve.ExitCode, Is.Zero, approve.Errors);
        await page.WaitForFunctionAsync("() => document.getElementById('health').innerText.startsWith('Health: ok') && !document.body.innerText.includes('Held deletions')",
            new WaitForFunctionOptions { Timeout = 60_000 });
        Assert.That((await accounts.ReplicaSnapshotAsync()).Differences(await accounts.PrimarySnapshotAsync()), Is.Empty);

        observer.Terminate();
        Assert.That(await observer.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.Zero, observer.Errors);
    }

    [TestCase("http://192.0.2.10:9477", "is not a loopback address")]
    [TestCase("https://127.0.0.1:9477", "is not an http:// address with a port")]
    [TestCase("http://127.0.0.1:9477/status", "has a path")]
    [TestCase("127.0.0.1:9477", "is not an http:// address with a port")]
    public async Task HttpUrl_ThatIsNotALoopbackHttpAddress_IsOneLineOfConfig(string value, string problem)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        var code = await ObserverProgram.RunAsync([
            "status", "--State:Path=" + StatePath, "--Http:Url=" + value,
            "--Primary:Host=127.0.0.1", "--Primary:Port=1", "--Primary:Security=None", "--Primary:Username=a", "--Primary:Password=x",
            "--Replica:Host=127.0.0.1", "--Replica:Port=2", "--Replica:Security=None", "--Replica:Username=b", "--Replica:Password=y",
        ], output, errors);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(errors.ToString(), Does.StartWith($"observer: config: Http:Url '{value}' {problem}").And.EndWith("\n"));
        Assert.That(errors.ToString().TrimEnd().Split('\n'), Has.Length.EqualTo(1));
    }

    private static string ChromiumPath()
    {
        foreach (var candidate in new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" })
            if (File.Exists(candidate)) return candidate;
        Assert.Fail("Debian's chromium is not installed (apt-get install chromium); tests/run.sh and .ci/run install it");
        return "";
    }

    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(string url)
    {
        try
        {
            using var response = await Http.GetAsync(url);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException ex)
        {
            return (0, ex.Message);
        }
    }

    private static async Task<string> ScrapeAsync(string url)
    {
        using var response = await Http.GetAsync(url + "/metrics");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/plain"));
        return await response.Content.ReadAsStringAsync();
    }

    private static readonly Regex Sample = new(@"^(?<series>[a-z_]+(\{[^}]*\})?) (?<value>\S+)$");

    /// <summary>
    /// Prometheus' text format: each sample a line of series and value, each metric announced by a TYPE line first.
    /// Returns the samples by series, as written (labels in their order).
    /// </summary>
    private static Dictionary<string, double> Parse(string text)
    {
        var typed = new HashSet<string>();
        var samples = new Dictionary<string, double>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                typed.Add(line.Split(' ')[2]);
                continue;
            }
            if (line.StartsWith('#')) continue;
            var match = Sample.Match(line);
            Assert.That(match.Success, Is.True, $"not a sample line: {line}");
            var series = match.Groups["series"].Value;
            Assert.That(typed, Does.Contain(series.Split('{')[0]), $"no TYPE line before {series}");
            Assert.That(samples.TryAdd(series, double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture)), Is.True, $"{series} twice");
        }
        return samples;
    }
}

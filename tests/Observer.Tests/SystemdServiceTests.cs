using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>
/// The systemd units in deploy/systemd, checked by systemd's own analyzer, and `observer run` as a Type=notify service:
/// READY=1 once started, STOPPING=1 on SIGTERM, to the NOTIFY_SOCKET systemd gives it.
/// </summary>
public class SystemdServiceTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-systemd-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [TestCase("observer.service", "observer.service")]
    [TestCase("observer@.service", "observer@mail1.service")]
    public async Task TheUnit_PassesSystemdAnalyzeVerify_AndIsHardened(string unit, string instance)
    {
        var text = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "deploy", "systemd", unit));
        Assert.That(text, Does.Contain("Type=notify").And.Contain("ExecReload=/bin/kill -HUP $MAINPID").And.Contain("NoNewPrivileges=yes")
            .And.Contain("ProtectSystem=strict").And.Contain("StateDirectory=observer").And.Contain("User=observer"));
        // The analyzer checks that the command exists: the installed path is swapped for the binary the tests run.
        var copy = Path.Combine(_dir, instance);
        await File.WriteAllTextAsync(copy, text.Replace("/usr/local/bin/observer", ObserverProcess.Executable, StringComparison.Ordinal));
        var (code, output) = await RunAsync("systemd-analyze", "verify", copy);
        // An unknown key or a bad value is only a warning to systemd: any line about this unit fails the test (other units of the host may warn too).
        var ours = output.Split('\n').Where(l => l.Contains(instance, StringComparison.Ordinal) || l.Contains(_dir, StringComparison.Ordinal)).ToList();
        Assert.That((code, ours), Is.EqualTo((0, new List<string>())), output);
    }

    [Test]
    public async Task Run_UnderSystemd_TellsItReadyOnceStarted_AndStoppingOnSigterm()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        var config = Path.Combine(_dir, "settings.json");
        ObserverProcess.WriteSettings(accounts.Settings(Path.Combine(_dir, "state.db")), config);
        var socketPath = Path.Combine(_dir, "notify");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(socketPath));
        // Microsoft.Extensions.Hosting.Systemd knows systemd by its parent's name: a shell called systemd stands in for it.
        var systemd = Path.Combine(_dir, "systemd");
        File.Copy("/bin/sh", systemd);
        var info = new ProcessStartInfo(systemd) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-c", "\"$0\" run --config \"$1\" & echo $! > \"$2.new\" && mv \"$2.new\" \"$2\"; wait $!", ObserverProcess.Executable, config, Path.Combine(_dir, "pid") })
            info.ArgumentList.Add(a);
        info.Environment["NOTIFY_SOCKET"] = socketPath;
        using var parent = Process.Start(info)!;
        var errors = parent.StandardError.ReadToEndAsync();
        var pidFile = Path.Combine(_dir, "pid");
        try
        {
            Assert.That(await ReceiveAsync(notify, TimeSpan.FromSeconds(60)), Is.EqualTo("READY=1"));
            await Eventually.HoldsAsync(() => Task.FromResult(File.Exists(pidFile)), TimeSpan.FromSeconds(10));
            // SIGTERM, as systemctl stop sends it (Process.Kill would send SIGKILL).
            Assert.That((await RunAsync("kill", "-TERM", (await File.ReadAllTextAsync(pidFile)).Trim())).Code, Is.Zero);
            Assert.That(await ReceiveAsync(notify, TimeSpan.FromSeconds(60)), Is.EqualTo("STOPPING=1"));
            await parent.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            if (!parent.HasExited) parent.Kill(entireProcessTree: true);
        }
        Assert.That(parent.ExitCode, Is.Zero, await errors);
        Assert.That(await errors, Does.StartWith("<6>Microsoft.Hosting.Lifetime"), "the journal's level prefix, not the terminal's timestamps");
    }

    private static async Task<string> ReceiveAsync(Socket socket, TimeSpan within)
    {
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(within);
        var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    private static async Task<(int Code, string Output)> RunAsync(string command, params string[] args)
    {
        var info = new ProcessStartInfo(command) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, (await output) + (await errors));
    }
}

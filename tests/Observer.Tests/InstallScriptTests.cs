using System.Diagnostics;
using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>
/// deploy/install.sh, run for real under a staging root (--root) with a fake observer (--binary): where each file
/// lands and with which mode, what a second run keeps and replaces, and how it refuses a wrong argument.
/// </summary>
public class InstallScriptTests
{
    private static readonly string Script = Path.Combine(RepoPaths.Root, "deploy", "install.sh");
    private string _dir = "";
    private string _root = "";
    private string _fake = "";

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("observer-install-").FullName;
        _root = Path.Combine(_dir, "root");
        // A publish folder as dotnet publish leaves it: the program, SQLite beside it, and debug symbols.
        var publish = Directory.CreateDirectory(Path.Combine(_dir, "publish")).FullName;
        _fake = Path.Combine(publish, "observer");
        WriteFake("observer 1.0.0 (fake)");
        File.WriteAllText(Path.Combine(publish, "libe_sqlite3.so"), "not really SQLite");
        File.WriteAllText(Path.Combine(publish, "observer.dbg"), "symbols");
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task Install_PutsEachFileWhereDocumented_WithItsMode()
    {
        var (code, output, errors) = await InstallAsync("--root", _root, "--binary", _fake);
        Assert.That(code, Is.Zero, errors);

        var program = Staged("usr/local/lib/observer/observer");
        Assert.That((File.ReadAllText(program), Mode(program)), Is.EqualTo((File.ReadAllText(_fake), "755")));
        Assert.That(Mode(Staged("usr/local/lib/observer/libe_sqlite3.so")), Is.EqualTo("644"));
        Assert.That(File.Exists(Staged("usr/local/lib/observer/observer.dbg")), Is.False, "debug symbols are not installed");
        // The command is a link, so that the program finds libe_sqlite3.so beside its real path.
        Assert.That(new FileInfo(Staged("usr/local/bin/observer")).LinkTarget, Is.EqualTo("../lib/observer/observer"));
        Assert.That((await RunAsync(Staged("usr/local/bin/observer"))).Output.Trim(), Is.EqualTo("observer 1.0.0 (fake)"));

        var settings = Staged("etc/observer/appsettings.json");
        Assert.That((Mode(Staged("etc/observer")), Mode(settings)), Is.EqualTo(("750", "640")));
        Assert.That(File.ReadAllText(settings), Is.EqualTo(File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "appsettings.sample.json"))));
        Assert.That(Mode(Staged("var/lib/observer")), Is.EqualTo("700"));

        foreach (var (unit, config) in new[] { ("observer.service", "/etc/observer/appsettings.json"), ("observer@.service", "/etc/observer/%i.json") })
        {
            var installed = Staged("etc/systemd/system/" + unit);
            Assert.That(Mode(installed), Is.EqualTo("644"), unit);
            Assert.That(ExecStart(installed), Is.EqualTo($"ExecStart=/usr/local/bin/observer run --config {config}"), unit);
            Assert.That(WithoutExecStart(installed), Is.EqualTo(WithoutExecStart(Path.Combine(RepoPaths.Root, "deploy", "systemd", unit))), unit);
        }
        Assert.That(output, Does.Contain("new: a sample to edit").And.Contain("sudo systemctl enable --now observer"));
    }

    [Test]
    public async Task SecondRun_KeepsEditedSettings_AndReplacesTheProgram()
    {
        Assert.That((await InstallAsync("--root", _root, "--binary", _fake)).Code, Is.Zero);
        var settings = Staged("etc/observer/appsettings.json");
        const string edited = """{ "Primary": { "Host": "mail.example.net" } }""";
        File.WriteAllText(settings, edited);
        WriteFake("observer 2.0.0 (fake)");

        var (code, output, errors) = await InstallAsync("--root", _root, "--binary", _fake);

        Assert.That(code, Is.Zero, errors);
        Assert.That((File.ReadAllText(settings), Mode(settings)), Is.EqualTo((edited, "640")));
        Assert.That((await RunAsync(Staged("usr/local/bin/observer"))).Output.Trim(), Is.EqualTo("observer 2.0.0 (fake)"));
        Assert.That(Directory.GetFiles(Staged("usr/local/lib/observer")).Select(Path.GetFileName).Order(),
            Is.EqualTo(new[] { "libe_sqlite3.so", "observer" }), "no temporary file is left behind");
        Assert.That(output, Does.Contain("kept").And.Contain("systemctl restart observer"));
    }

    [Test]
    public async Task Prefix_MovesTheProgram_AndTheUnitsExecStartFollowsIt()
    {
        var (code, _, errors) = await InstallAsync("--root", _root, "--binary", _fake, "--prefix", "/opt/observer");

        Assert.That(code, Is.Zero, errors);
        Assert.That(new FileInfo(Staged("opt/observer/bin/observer")).LinkTarget, Is.EqualTo("../lib/observer/observer"));
        Assert.That(File.Exists(Staged("opt/observer/lib/observer/observer")), Is.True);
        Assert.That(ExecStart(Staged("etc/systemd/system/observer.service")), Does.StartWith("ExecStart=/opt/observer/bin/observer run "));
        Assert.That(ExecStart(Staged("etc/systemd/system/observer@.service")), Does.StartWith("ExecStart=/opt/observer/bin/observer run "));
    }

    [TestCase(new[] { "--prefx", "/opt" }, "unknown option '--prefx'")]
    [TestCase(new[] { "--prefix" }, "--prefix needs a value")]
    [TestCase(new[] { "--prefix", "usr/local" }, "--prefix must be an absolute path, not 'usr/local'")]
    [TestCase(new[] { "--binary", "/nonexistent/observer" }, "--binary /nonexistent/observer: no such file")]
    [TestCase(new[] { "--root", "--binary" }, "--root needs a value")]
    [TestCase(new[] { "now" }, "unexpected argument 'now'")]
    public async Task WrongArgument_ExitsTwo_WithOneLineNamingIt_AndInstallsNothing(string[] wrong, string expected)
    {
        var (code, output, errors) = await InstallAsync(["--root", _root, "--binary", _fake, .. wrong]);

        Assert.That(code, Is.EqualTo(2), errors);
        Assert.That(errors, Does.StartWith("install.sh: " + expected));
        Assert.That(errors.TrimEnd('\n'), Does.Not.Contain('\n'), "one line");
        Assert.That(output, Is.Empty);
        Assert.That(Directory.Exists(_root), Is.False, "nothing installed");
    }

    [Test]
    public async Task Binary_WithoutSqliteBesideIt_IsRefused()
    {
        File.Delete(Path.Combine(Path.GetDirectoryName(_fake)!, "libe_sqlite3.so"));

        var (code, _, errors) = await InstallAsync("--root", _root, "--binary", _fake);

        Assert.That(code, Is.EqualTo(2));
        Assert.That(errors, Does.Contain("no libe_sqlite3.so beside it"));
        Assert.That(Directory.Exists(_root), Is.False, "nothing installed");
    }

    private void WriteFake(string versionLine)
    {
        File.WriteAllText(_fake, $"#!/bin/sh\necho '{versionLine}'\n");
        File.SetUnixFileMode(_fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private string Staged(string path) => Path.Combine(_root, path);

    private static string Mode(string path) => Convert.ToString((int)File.GetUnixFileMode(path), 8);

    private static string ExecStart(string unit) => File.ReadAllLines(unit).Single(l => l.StartsWith("ExecStart=", StringComparison.Ordinal));

    private static IEnumerable<string> WithoutExecStart(string unit) => File.ReadAllLines(unit).Where(l => !l.StartsWith("ExecStart=", StringComparison.Ordinal));

    /// <summary>Runs the script from a folder of its own, not from the repository, as an admin might.</summary>
    private Task<(int Code, string Output, string Errors)> InstallAsync(params string[] args) => RunAsync("bash", [Script, .. args]);

    private async Task<(int Code, string Output, string Errors)> RunAsync(string command, params string[] args)
    {
        var info = new ProcessStartInfo(command) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        return (process.ExitCode, await output, await errors);
    }
}

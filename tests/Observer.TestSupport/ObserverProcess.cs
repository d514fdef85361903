using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Observer.TestSupport;

/// <summary>
/// The real `observer` executable, run as a separate process with a settings file of its own, so
/// tests can kill it with SIGKILL, stop it with SIGTERM and read what it printed.
/// </summary>
public sealed class ObserverProcess : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private ObserverProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>
    /// The build as it ships (tests/run.sh publishes it natively and names it in OBSERVER_TEST_BINARY),
    /// otherwise the one `dotnet build` made.
    /// </summary>
    public static string Executable => Environment.GetEnvironmentVariable("OBSERVER_TEST_BINARY") is { Length: > 0 } shipped
        ? shipped
        : Path.Combine(RepoPaths.Root, "src", "Observer", "bin", BuildConfiguration, "net10.0", "observer");

    private static string BuildConfiguration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    public int Pid => _process.Id;

    public string Output
    {
        get { lock (_stdout) return _stdout.ToString(); }
    }

    public string Errors
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>CPU time used so far (user and system).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>The most memory the process has held (VmHWM).</summary>
    public long PeakMemory
    {
        get
        {
            _process.Refresh();
            return _process.PeakWorkingSet64;
        }
    }

    /// <summary>Writes the settings to a JSON file and starts `observer verb --config file args`.</summary>
    public static ObserverProcess Start(string verb, IReadOnlyDictionary<string, string> settings, string workDirectory, params string[] args)
    {
        Directory.CreateDirectory(workDirectory);
        var config = Path.Combine(workDirectory, "settings.json");
        WriteSettings(settings, config);
        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDirectory,
        };
        info.ArgumentList.Add(verb);
        info.ArgumentList.Add("--config");
        info.ArgumentList.Add(config);
        foreach (var a in args) info.ArgumentList.Add(a);
        return new ObserverProcess(Process.Start(info) ?? throw new InvalidOperationException("cannot start observer"));
    }

    /// <summary>Runs a command to completion and returns its exit code.</summary>
    public static async Task<(int ExitCode, string Output, string Errors)> RunAsync(string verb, IReadOnlyDictionary<string, string> settings, string workDirectory,
        TimeSpan timeout, params string[] args)
    {
        await using var process = Start(verb, settings, workDirectory, args);
        var code = await process.WaitForExitAsync(timeout);
        return (code, process.Output, process.Errors);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"observer did not exit within {timeout.TotalSeconds:0} s. stderr:\n{Errors}");
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no chance to clean up, as in a crash or an OOM kill.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
    }

    /// <summary>SIGTERM: the polite stop a service manager sends.</summary>
    public void Terminate() => Signal("TERM");

    public void Interrupt() => Signal("INT");

    /// <summary>SIGSTOP: the process is frozen where it stands (as a VM paused, or a long GC), until <see cref="Continue"/>.</summary>
    public void Pause() => Signal("STOP");

    /// <summary>SIGCONT: a paused process runs on from where it stood.</summary>
    public void Continue() => Signal("CONT");

    /// <summary>Whether the process is stopped now (state T in /proc), as after <see cref="Pause"/>.</summary>
    public bool IsPaused => !_process.HasExited && File.ReadAllText($"/proc/{_process.Id}/stat") is var stat && stat[(stat.LastIndexOf(')') + 2)..].StartsWith('T');

    private void Signal(string signal)
    {
        if (!_process.HasExited) Process.Start("kill", [$"-{signal}", _process.Id.ToString()])!.WaitForExit();
    }

    /// <summary>Writes settings given as configuration keys ("Primary:Port") as a nested JSON settings file.</summary>
    public static void WriteSettings(IReadOnlyDictionary<string, string> settings, string path) => File.WriteAllText(path, ToJson(settings));

    private static string ToJson(IReadOnlyDictionary<string, string> settings)
    {
        var root = new Dictionary<string, object>();
        foreach (var (key, value) in settings)
        {
            var parts = key.Split(':');
            var node = root;
            for (var i = 0; i < parts.Length - 1; i++)
            {
                if (!node.TryGetValue(parts[i], out var child)) node[parts[i]] = child = new Dictionary<string, object>();
                node = (Dictionary<string, object>)child;
            }
            node[parts[^1]] = value;
        }
        return JsonSerializer.Serialize(root, Indented);
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}

using System.Diagnostics;
using System.Text;

namespace Observer.Bench;

/// <summary>
/// A tool running in its watch mode, measured from /proc while it runs: CPU of its whole process
/// tree, memory, and the connections it holds to the servers. Stopped with SIGTERM.
/// </summary>
internal sealed class LiveRun : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private long _peakRss;

    private LiveRun(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Add(e.Data);
        process.ErrorDataReceived += (_, e) => Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static LiveRun Start(ProcessSpec spec)
    {
        var process = Process.Start(spec.StartInfo()) ?? throw new BenchException($"cannot start {spec.Program}");
        process.StandardInput.Close();
        return new LiveRun(process);
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>CPU seconds used so far by the tool and everything it started.</summary>
    public double CpuSeconds => ProcStat.TreeCpuSeconds(Pid);

    /// <summary>Resident memory of the process tree now; also updates the peak.</summary>
    public long Rss
    {
        get
        {
            var rss = ProcStat.TreeRss(Pid);
            _peakRss = Math.Max(_peakRss, Math.Max(rss, ProcStat.Memory(Pid).Peak));
            return rss;
        }
    }

    public long PeakRss
    {
        get
        {
            _ = Rss;
            return _peakRss;
        }
    }

    public int ConnectionsTo(params int[] ports) => ProcStat.ConnectionsTo(Pid, ports);

    private void Add(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            _output.AppendLine(line);
            if (_output.Length > 65536) _output.Remove(0, _output.Length - 65536);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            foreach (var pid in ProcStat.Descendants(Pid).Prepend(Pid).ToList())
                Process.Start("kill", ["-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit();
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        _process.Dispose();
    }
}

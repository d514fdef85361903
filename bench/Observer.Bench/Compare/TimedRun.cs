using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Observer.Bench;

/// <summary>One run of a tool as a whole process: wall time, CPU and peak memory (from GNU time), exit code.</summary>
internal sealed record TimedResult(double WallSeconds, double CpuSeconds, long PeakRss, int ExitCode, bool TimedOut, string OutputTail)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut;

    /// <summary>What went wrong, in one line, for the table.</summary>
    public string Failure => TimedOut ? "timed out" : $"exit {ExitCode}: {Reason}";

    /// <summary>A crash's exception line beats the last line, which would be a stack frame.</summary>
    private string? Reason
    {
        get
        {
            var lines = OutputTail.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return lines.FirstOrDefault(l => l.StartsWith("Unhandled exception", StringComparison.Ordinal)) ?? lines.LastOrDefault();
        }
    }
}

internal static class TimedRun
{
    public const string GnuTime = "/usr/bin/time";

    public static async Task<TimedResult> RunAsync(ProcessSpec spec, TimeSpan timeout)
    {
        if (!File.Exists(GnuTime)) throw new BenchException($"{GnuTime} is missing; install Debian's 'time' package (bench/run.sh does)");
        var timeFile = Path.Combine(spec.WorkingDirectory, ".time");
        var output = new Tail(8192);
        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = spec.StartInfo(GnuTime, ["-f", "%e %U %S %M", "-o", timeFile]) };
        process.OutputDataReceived += (_, e) => output.Add(e.Data);
        process.ErrorDataReceived += (_, e) => output.Add(e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var limit = new CancellationTokenSource(timeout);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = true;
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.WaitForExit();
        var wall = clock.Elapsed.TotalSeconds;
        double cpu = 0;
        long rss = 0;
        if (!timedOut && File.Exists(timeFile))
        {
            // GNU time puts "Command exited with non-zero status N" before its line when the tool fails.
            var line = File.ReadAllLines(timeFile).LastOrDefault(l => l.Length > 0)?.Split(' ') ?? [];
            if (line.Length == 4)
            {
                cpu = double.Parse(line[1], CultureInfo.InvariantCulture) + double.Parse(line[2], CultureInfo.InvariantCulture);
                rss = long.Parse(line[3], CultureInfo.InvariantCulture) * 1024;
            }
        }
        File.Delete(timeFile);
        return new TimedResult(wall, cpu, rss, timedOut ? -1 : process.ExitCode, timedOut, output.ToString());
    }

    /// <summary>The last few kilobytes of a process's output.</summary>
    private sealed class Tail(int capacity)
    {
        private readonly StringBuilder _text = new();

        public void Add(string? line)
        {
            if (line is null) return;
            lock (_text)
            {
                _text.AppendLine(line);
                if (_text.Length > capacity) _text.Remove(0, _text.Length - capacity);
            }
        }

        public override string ToString()
        {
            lock (_text) return _text.ToString();
        }
    }
}

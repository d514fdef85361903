using System.Diagnostics;

namespace Observer.Bench;

/// <summary>A command line to run a tool with: program, arguments, extra environment and folder.</summary>
internal sealed record ProcessSpec(string Program, IReadOnlyList<string> Arguments, string WorkingDirectory, IReadOnlyDictionary<string, string>? Environment = null)
{
    public ProcessStartInfo StartInfo(string? wrapper = null, IEnumerable<string>? wrapperArguments = null)
    {
        var info = new ProcessStartInfo(wrapper ?? Program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = WorkingDirectory,
        };
        if (wrapper is not null)
        {
            foreach (var a in wrapperArguments ?? []) info.ArgumentList.Add(a);
            info.ArgumentList.Add(Program);
        }
        foreach (var a in Arguments) info.ArgumentList.Add(a);
        foreach (var (key, value) in Environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        return info;
    }

    public override string ToString() => string.Join(' ', Arguments.Prepend(Program).Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a));

    /// <summary>The full path of <paramref name="program"/> on PATH, or null.</summary>
    public static string? Which(string program) =>
        program.Contains('/', StringComparison.Ordinal) ? (File.Exists(program) ? program : null)
        : (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);
}

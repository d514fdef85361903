using System.Globalization;

namespace Observer.Bench;

/// <summary>What Linux's /proc says about a process: CPU used (with reaped children), memory, sockets.</summary>
internal static class ProcStat
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>User and system CPU seconds of the process, plus those of its children it has reaped.</summary>
    public static double CpuSeconds(int pid)
    {
        var fields = StatFields(pid);
        if (fields is null) return 0;
        // Fields after the command name: utime=11, stime=12, cutime=13, cstime=14 (0-based from state).
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)
            + long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }

    public static int? ParentOf(int pid) => StatFields(pid) is { } f ? int.Parse(f[1], CultureInfo.InvariantCulture) : null;

    /// <summary>CPU seconds of a process and all its live descendants (and, through cutime, the reaped ones).</summary>
    public static double TreeCpuSeconds(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var pid in AllPids())
            if (ParentOf(pid) is { } parent) (children.TryGetValue(parent, out var list) ? list : children[parent] = []).Add(pid);
        var total = 0.0;
        var stack = new Stack<int>([root]);
        while (stack.Count > 0)
        {
            var pid = stack.Pop();
            total += CpuSeconds(pid);
            foreach (var child in children.GetValueOrDefault(pid) ?? []) stack.Push(child);
        }
        return total;
    }

    /// <summary>Resident memory now and at its peak, in bytes (VmRSS, VmHWM).</summary>
    public static (long Rss, long Peak) Memory(int pid)
    {
        long rss = 0, peak = 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kb(line);
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kb(line);
            }
        }
        catch (IOException)
        {
            // Gone.
        }
        return (rss, peak);
    }

    /// <summary>Memory of a process and its descendants (a shell loop and what it runs).</summary>
    public static long TreeRss(int root) => Descendants(root).Prepend(root).Sum(p => Memory(p).Rss);

    /// <summary>TCP connections the process tree holds to <paramref name="remotePort"/> on loopback.</summary>
    public static int ConnectionsTo(int root, IReadOnlyCollection<int> remotePorts)
    {
        var inodes = new HashSet<string>();
        foreach (var pid in Descendants(root).Prepend(root))
        {
            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
                {
                    var target = new FileInfo(fd).LinkTarget;
                    if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal)) inodes.Add(target[8..^1]);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The process ended meanwhile.
            }
        }
        var count = 0;
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table)) continue;
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var remotePort = int.Parse(f[2][(f[2].IndexOf(':', StringComparison.Ordinal) + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                // State 01 is ESTABLISHED.
                if (f[3] == "01" && remotePorts.Contains(remotePort) && inodes.Contains(f[9])) count++;
            }
        }
        return count;
    }

    public static IEnumerable<int> Descendants(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var pid in AllPids())
            if (ParentOf(pid) is { } parent) (children.TryGetValue(parent, out var list) ? list : children[parent] = []).Add(pid);
        var stack = new Stack<int>(children.GetValueOrDefault(root) ?? []);
        while (stack.Count > 0)
        {
            var pid = stack.Pop();
            yield return pid;
            foreach (var child in children.GetValueOrDefault(pid) ?? []) stack.Push(child);
        }
    }

    private static IEnumerable<int> AllPids() =>
        Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)).Select(n => int.Parse(n!, CultureInfo.InvariantCulture));

    private static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name is in parentheses and may hold spaces: split after its closing one.
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static long Kb(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
}

namespace Observer.State;

/// <summary>Whether a process of this box still runs: a service's heartbeat, a worker's row, name one by its pid.</summary>
public static class Processes
{
    public static bool IsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

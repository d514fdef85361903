using Observer.Configuration;
using Observer.State;

namespace Observer.Hosting;

/// <summary>
/// Keeps two observers from writing one state database: an exclusive lock on "&lt;state&gt;.lock",
/// held for the life of the process (the OS releases it if the process dies). On a shared (PostgreSQL) state,
/// workers share an advisory lock instead and a one-shot command that writes takes it alone (<see cref="SharedStateLock"/>).
/// </summary>
public sealed class InstanceLock : IDisposable
{
    // Linux errno values: .NET gives an IOException the errno as its HResult on Unix.
    private const int WouldBlock = 11;
    private const int IsADirectory = 21;
    private const int ReadOnlyFileSystem = 30;

    private readonly IDisposable _held;

    private InstanceLock(IDisposable held) => _held = held;

    /// <summary>The lock, or null while another observer holds it (a running service, a sync).</summary>
    public static InstanceLock? TryAcquire(StateLocation location)
    {
        try
        {
            return Acquire(location);
        }
        catch (IOException ex) when (ex.Data.Contains(HeldKey))
        {
            return null;
        }
    }

    private const string HeldKey = "observer.lock.held";

    /// <param name="worker">A worker of a shared state, which runs beside others of its kind (not beside a one-shot command).</param>
    public static InstanceLock Acquire(StateLocation location, bool worker = false)
    {
        if (!location.Shared) return Acquire(location.Path);
        return SharedStateLock.TryTake(location, exclusive: !worker) is { } taken ? new InstanceLock(taken)
            : throw new IOException(worker
                ? $"a one-shot observer command is writing the shared state, {location.Describe}; start the worker when it is done"
                : $"workers (observer run) are using the shared state, {location.Describe}; stop them first, or run this where no worker holds the account")
            {
                Data = { [HeldKey] = true },
            };
    }

    public static InstanceLock Acquire(string statePath)
    {
        var path = statePath + ".lock";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            var file = new FileStream(path, options);
            file.SetLength(0);
            var pid = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            file.Write(pid);
            file.Flush();
            return new InstanceLock(file);
        }
        catch (IOException ex) when (IsLocked(ex))
        {
            var holder = "";
            try
            {
                holder = $" (pid {File.ReadAllText(path).Trim()})";
            }
            catch (IOException)
            {
                // Unreadable while locked on some systems; the message still says what to do.
            }
            throw new IOException($"another observer is already using the state database {statePath}{holder}; stop it first, or give this one its own State:Path")
            {
                Data = { [HeldKey] = true },
            };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationProblemException(Explain(ex, statePath, path), ex);
        }
    }

    /// <summary>Only a held lock means another observer; a folder that cannot be written to is a problem with State:Path.</summary>
    internal static bool IsLocked(IOException ex) =>
        OperatingSystem.IsWindows() ? ex.HResult == unchecked((int)0x80070020) : ex.HResult == WouldBlock;

    internal static string Explain(Exception ex, string statePath, string lockPath)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(statePath));
        // .NET reports a folder where the file should be as access denied, so look before believing it.
        var why = Directory.Exists(lockPath) || ex is IOException { HResult: IsADirectory } ? $"{lockPath} is a folder"
            : ex switch
            {
                UnauthorizedAccessException => $"permission denied in {folder}",
                IOException { HResult: ReadOnlyFileSystem } => $"{folder} is on a read-only file system",
                _ => ex.Message.ReplaceLineEndings(" "),
            };
        return $"State:Path {statePath}: cannot create the lock file {lockPath}: {why}; give State:Path a file in a folder observer can write to";
    }

    public void Dispose() => _held.Dispose();
}

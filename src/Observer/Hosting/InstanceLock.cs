namespace Observer.Hosting;

/// <summary>
/// Keeps two observers from writing one state database: an exclusive lock on "&lt;state&gt;.lock",
/// held for the life of the process (the OS releases it if the process dies).
/// </summary>
public sealed class InstanceLock : IDisposable
{
    private readonly FileStream _file;

    private InstanceLock(FileStream file) => _file = file;

    public static InstanceLock Acquire(string statePath)
    {
        var path = statePath + ".lock";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            var file = new FileStream(path, options);
            file.SetLength(0);
            var pid = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            file.Write(pid);
            file.Flush();
            return new InstanceLock(file);
        }
        catch (IOException)
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
            throw new IOException($"another observer is already using the state database {statePath}{holder}; stop it first, or give this one its own State:Path");
        }
    }

    public void Dispose() => _file.Dispose();
}

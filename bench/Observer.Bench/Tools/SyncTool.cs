using System.Diagnostics;
using Observer.TestSupport;

namespace Observer.Bench;

/// <summary>
/// A replication tool under test: how to run it once (a full or incremental sync) and, if it has
/// one, in its watch mode, for a given pair of accounts. Configuration goes into a private folder.
/// </summary>
internal abstract class SyncTool
{
    /// <summary>The short name for --tools.</summary>
    public abstract string Id { get; }

    /// <summary>The name in the report.</summary>
    public abstract string Name { get; }

    /// <summary>The executable; the tool is skipped when it is not installed.</summary>
    protected abstract string Program { get; }

    /// <summary>The Debian package, for the version in the report.</summary>
    protected virtual string? Package => null;

    public virtual string? Missing => ProcessSpec.Which(Program) is null ? $"{Program} is not installed" : null;

    public string Version => Package is null ? "" : Dpkg(Package);

    /// <summary>False for a tool that can only fill an empty replica.</summary>
    public virtual bool SupportsIncremental => true;

    public abstract ProcessSpec OneShot(PairAccounts accounts, string work);

    /// <summary>The tool kept running, replicating as changes happen; null if it has no such mode.</summary>
    public virtual ProcessSpec? Watch(PairAccounts accounts, string work) => null;

    /// <summary>How the watch mode is set up, for the report.</summary>
    public virtual string WatchNote => "";

    /// <summary>Replaces {KEY} placeholders with the accounts' details.</summary>
    protected static string Fill(string template, PairAccounts a, string work) => template
        .Replace("{STATE_DIR}", work, StringComparison.Ordinal)
        .Replace("{PRIMARY_PORT}", a.Pair.Primary.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{PRIMARY_USER}", a.Primary.User, StringComparison.Ordinal)
        .Replace("{PRIMARY_PASSWORD}", a.Primary.Password, StringComparison.Ordinal)
        .Replace("{REPLICA_PORT}", a.Pair.Replica.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{REPLICA_USER}", a.Replica.User, StringComparison.Ordinal)
        .Replace("{REPLICA_PASSWORD}", a.Replica.Password, StringComparison.Ordinal)
        .Replace("{REPLICA_DOVECOT_CONF}", BenchServers.ConfigFile(a.Pair.Replica), StringComparison.Ordinal);

    /// <summary>Writes a configuration file readable only by its owner: it holds passwords.</summary>
    protected static string WritePrivate(string work, string name, string text)
    {
        var path = Path.Combine(work, name);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    private static string Dpkg(string package)
    {
        try
        {
            using var query = Process.Start(new ProcessStartInfo("dpkg-query", ["-W", "-f", "${Version}", package]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var version = query.StandardOutput.ReadToEnd().Trim();
            query.WaitForExit();
            return query.ExitCode == 0 ? version : "";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "";
        }
    }
}

namespace Observer.Cli;

public enum Verb
{
    Run,
    Sync,
    Verify,
    Status,
    Approve,
    Forget,
    Restore,
    Drain,
    Promote,
    Report,
    Retry,
    Version,
    Help,
}

/// <summary>
/// What was asked on the command line: a verb, its switches, and configuration overrides in the
/// form --Section:Key=value (or --Section:Key value), which go to the configuration system.
/// </summary>
public sealed record CommandLineArguments(Verb Verb, string? ConfigFile, bool Repair, bool Force, bool Full, IReadOnlyList<string> Overrides)
{
    /// <summary>`approve`: the folders whose held deletions to approve; empty with <see cref="All"/>.</summary>
    public IReadOnlyList<string> Folders { get; init; } = [];

    /// <summary>`approve --all`.</summary>
    public bool All { get; init; }

    /// <summary>--account NAME: only this account of the settings' Accounts list (sync, verify, status, approve).</summary>
    public string? Account { get; init; }

    /// <summary>`restore --from REPLICA`: the replica to copy back from.</summary>
    public string? From { get; init; }

    /// <summary>`restore --folder FOLDER`: only this primary folder.</summary>
    public string? Folder { get; init; }

    /// <summary>`restore --since TIME`: only messages whose internal date is this or later.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>`promote NAME`: the replica to make the primary (or the settings' primary, by its Replication:PrimaryName, to fail back).</summary>
    public string? Promoted { get; init; }

    /// <summary>`status --json`: the report as one JSON document.</summary>
    public bool Json { get; init; }

    /// <summary>`sync --dry-run`, `verify --repair --dry-run`: say what would be written to the replica, and write nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>--folders PATTERN (repeatable): sync and verify look only at the primary folders matching one.</summary>
    public IReadOnlyList<string> FolderPatterns { get; init; } = [];

    /// <summary>--replica NAME: only this replica of the settings' Replicas list (sync, verify, status, approve).</summary>
    public string? Replica { get; init; }

    public const string Usage = """
        usage: observer <command> [options] [--Section:Key=value ...]
               observer --version

        commands:
          run       reconcile, then replicate live until SIGINT or SIGTERM
          sync      one reconciliation pass over every folder; exit 0 when the replica matches
                      --dry-run  say what would be created, copied, changed, expunged and deleted on the
                                 replica, and write nothing
          verify    compare every message of both servers by MD5, flags and date; exit 1 if they differ.
                    Works beside a running service: it writes nothing, and checks a difference again
                    before reporting it
                      --repair   fix the replica, then compare again (stop `observer run` first)
                      --force    let --repair delete beyond Replication:MaxDeletePercent
                      --dry-run  with --repair: say what the repair would write, and write nothing
          status    per folder: last sync, pending work, lag, troubles and held deletions; reads the state only
                      --json     the same as one JSON document
                      exit 0: all well (replicating within Health:MaxLag, nothing in trouble or held)
                      exit 1: needs attention (lagging past Health:MaxLag, a folder in trouble or held,
                              a sync left unfinished)
                      exit 2: not running or not connected (the service stopped or is gone, a server
                              unavailable, an account stopped by an error, no state database yet)
          approve   FOLDER... | --all: apply deletions the delete guard held back (works while run is live)
          retry     [FOLDER...]: end the backoff of folders in trouble (all of them when none is named), so
                    the running service, or the next sync, tries them now
          forget    ACCOUNT: delete the state of an account taken out of the settings (its mail is untouched)
                    --folder FOLDER: delete what is remembered of one folder; the next sync pairs its
                    messages again by content, and copies nothing twice
          restore   --from REPLICA [--folder FOLDER] [--since TIME]: copy back to the primary what the replica
                    still holds and the primary lost (a delayed replica or an archive); never twice
          drain     bring every replica to zero lag and verify it; exit 0 when a mirror is identical to the
                    primary, and say which one is safe to switch to (stop `observer run` first)
          promote   NAME [--force]: make replica NAME the primary; the old primary becomes a replica, and what
                    it holds that NAME lacks is copied back before anything is written to it. Without --force,
                    NAME must first match the primary exactly; --force when the primary is lost
          report    split-brain: after a promotion, what exists on one side only since the failover point,
                    per folder (date, From, Subject, size); writes to neither server; exit 1 when there is something

        options:
          --config FILE          settings file (default: appsettings.json here, else next to observer)
          --account NAME         sync, verify, status, approve, drain, report: only this account of the Accounts list
                                 (default: every account; status then shows one line per account)
          --replica NAME         sync, verify, status, approve, drain, report: only this replica of the Replicas list
          --full                 sync: compare everything, not only changes since the last checkpoint
          --folders PATTERN      sync, verify: look only at the primary folders matching PATTERN (repeatable;
                                 * matches anything, % anything but the hierarchy delimiter). Folders are
                                 created, never renamed or deleted, under it. For the service, the setting
                                 Replication:Folders:Include replicates only matching folders
          --Section:Key=value    override any setting, e.g. --Primary:Host=mail.example.com
        environment: OBSERVER_Section__Key overrides too, e.g. OBSERVER_Replica__Password

        exit codes: 0 success; 1 the replica differs, or replication failed; 2 a mistake in the command
        line or the settings (status: see above)
        """;

    /// <summary>The settings outside any section, given on the command line as --Key=value.</summary>
    private static readonly string[] TopLevelSettings = ["AccountsFile"];

    /// <summary>Parses, or returns a one-line error that says what is wrong and what to do.</summary>
    public static (CommandLineArguments? Arguments, string? Error) Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0) return (null, "no command given; use one of: run, sync, verify, status, approve, retry, forget, restore, drain, promote, report (observer --help for more)");
        var verbText = args[0];
        if (verbText is "-h" or "--help" or "help") return (new CommandLineArguments(Verb.Help, null, false, false, false, []), null);
        if (verbText.Equals("--version", StringComparison.OrdinalIgnoreCase) || verbText.Equals("version", StringComparison.OrdinalIgnoreCase))
            return args.Count == 1 ? (new CommandLineArguments(Verb.Version, null, false, false, false, []), null) : (null, $"{verbText} takes nothing more; observer --version");
        if (!Enum.TryParse<Verb>(verbText, ignoreCase: true, out var verb) || verb is Verb.Help or Verb.Version || verbText.StartsWith('-'))
            return (null, $"unknown command '{verbText}'; use one of: run, sync, verify, status, approve, retry, forget, restore, drain, promote, report");

        string? config = null, account = null, replica = null, from = null, folder = null;
        DateTimeOffset? since = null;
        bool repair = false, force = false, full = false, all = false, json = false, dryRun = false;
        var patterns = new List<string>();
        var overrides = new List<string>();
        var folders = new List<string>();
        for (var i = 1; i < args.Count; i++)
        {
            var arg = args[i];
            switch (arg)
            {
                case "--config":
                    if (i + 1 >= args.Count) return (null, "--config needs a file name");
                    config = args[++i];
                    continue;
                case "--repair" when verb == Verb.Verify:
                    repair = true;
                    continue;
                case "--force" when verb is Verb.Verify or Verb.Promote:
                    force = true;
                    continue;
                case "--full" when verb == Verb.Sync:
                    full = true;
                    continue;
                case "--account" when verb is not (Verb.Run or Verb.Promote) && (verb != Verb.Forget || folder is not null || NamesFolder(args)):
                    if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal)) return (null, "--account needs the name of an account from the settings' Accounts list");
                    account = args[++i];
                    continue;
                case "--from" or "--folder" or "--since" when verb == Verb.Restore:
                    if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal)) return (null, RestoreValueMissing(arg));
                    var value = args[++i];
                    if (arg == "--from") from = value;
                    else if (arg == "--folder") folder = value;
                    else if (ParseSince(value) is { } parsed) since = parsed;
                    else return (null, $"--since '{value}' is not a time; give a date such as 2026-12-01, or 2026-12-01T08:00 (local time), or with an offset");
                    continue;
                case "--all" when verb == Verb.Approve:
                    all = true;
                    continue;
                case "--json" when verb == Verb.Status:
                    json = true;
                    continue;
                case "--dry-run" when verb is Verb.Sync or Verb.Verify:
                    dryRun = true;
                    continue;
                case "--folders" when verb is Verb.Sync or Verb.Verify:
                    if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                        return (null, "--folders needs a folder pattern, such as --folders 'INBOX*' (* matches anything, % anything but the hierarchy delimiter)");
                    patterns.Add(args[++i]);
                    continue;
                case "--folder" when verb == Verb.Forget:
                    if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal)) return (null, "--folder needs the name of a folder on the primary, as status lists it");
                    folder = args[++i];
                    continue;
                case "--replica" when verb is not (Verb.Run or Verb.Promote) && (verb != Verb.Forget || folder is not null || NamesFolder(args)):
                    if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal)) return (null, "--replica needs the name of a replica from the settings' Replicas list");
                    replica = args[++i];
                    continue;
                case "--account" or "--replica" or "--all" or "--full" or "--repair" or "--force" or "--from" or "--folder" or "--since" or "--json" or "--dry-run" or "--folders":
                    // A switch of another command: say so, rather than that it is not a setting.
                    return (null, $"{arg} does not apply to {verb.ToString().ToLowerInvariant()}; see observer --help");
                case "-h" or "--help":
                    return (new CommandLineArguments(Verb.Help, null, false, false, false, []), null);
            }
            if (arg.StartsWith("--config=", StringComparison.Ordinal))
            {
                config = arg["--config=".Length..];
                continue;
            }
            if (arg.StartsWith("--account=", StringComparison.Ordinal))
            {
                if (verb is Verb.Run or Verb.Promote || (verb == Verb.Forget && !NamesFolder(args))) return (null, $"--account does not apply to {verb.ToString().ToLowerInvariant()}; see observer --help");
                account = arg["--account=".Length..];
                if (account.Length == 0) return (null, "--account needs the name of an account from the settings' Accounts list");
                continue;
            }
            if (arg.StartsWith("--replica=", StringComparison.Ordinal))
            {
                if (verb is Verb.Run or Verb.Promote || (verb == Verb.Forget && !NamesFolder(args))) return (null, $"--replica does not apply to {verb.ToString().ToLowerInvariant()}; see observer --help");
                replica = arg["--replica=".Length..];
                if (replica.Length == 0) return (null, "--replica needs the name of a replica from the settings' Replicas list");
                continue;
            }
            if (verb is Verb.Approve or Verb.Forget or Verb.Promote or Verb.Report or Verb.Retry && !arg.StartsWith("--", StringComparison.Ordinal))
            {
                folders.Add(arg);
                continue;
            }
            // A setting always has a section, so "--Section:Key"; anything else is a typo, not a setting.
            var key = arg.TrimStart('-').Split('=', 2)[0];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || !(key.Contains(':') || TopLevelSettings.Contains(key, StringComparer.OrdinalIgnoreCase)))
                return (null, $"unknown option '{arg}' for {verb.ToString().ToLowerInvariant()}; settings look like --Section:Key=value");
            overrides.Add(arg);
            if (!arg.Contains('=') && i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) overrides.Add(args[++i]);
            else if (!arg.Contains('=')) return (null, $"setting '{arg}' has no value; write {arg}=value");
        }
        if (verb == Verb.Forget && folder is not null && folders.Count > 0)
            return (null, $"forget takes either an account (observer forget NAME) or --folder FOLDER, not both ('{folders[0]}')");
        if (verb == Verb.Forget && folder is null && folders.Count != 1)
            return (null, "forget needs the one account whose state to delete (observer forget NAME), or --folder FOLDER; `observer status` lists them");
        if (verb == Verb.Forget && folder is null) (account, folders) = (folders[0], []);
        if (dryRun && verb == Verb.Verify && !repair) return (null, "--dry-run only applies to verify with --repair: verify alone writes nothing");
        if (force && !repair && verb == Verb.Verify) return (null, "--force only applies with --repair");
        string? promoted = null;
        if (verb == Verb.Promote && folders.Count != 1)
            return (null, "promote needs the one server to make the primary: observer promote NAME [--force]; `observer status` lists the replicas");
        if (verb == Verb.Promote) (promoted, folders) = (folders[0], []);
        if (verb == Verb.Report && (folders.Count != 1 || !folders[0].Equals("split-brain", StringComparison.OrdinalIgnoreCase)))
            return (null, $"report needs what to report: observer report split-brain{(folders.Count == 0 ? "" : $" (not '{string.Join(' ', folders)}')")}");
        if (verb == Verb.Report) folders = [];
        if (verb == Verb.Restore && from is null)
            return (null, "restore needs --from REPLICA, the replica to copy back from (a name of the settings' Replicas list); `observer status` lists them");
        if (verb == Verb.Approve && (folders.Count == 0) == !all)
            return (null, "approve needs the folders whose held deletions to apply, or --all (not both); `observer status` lists them");
        return (new CommandLineArguments(verb, config, repair, force, full, overrides) { Folders = folders, All = all, Account = account, Replica = replica, From = from, Folder = folder, Since = since, Promoted = promoted,
            Json = json, DryRun = dryRun, FolderPatterns = patterns }, null);
    }

    /// <summary>`forget --folder F` takes --account and --replica; `forget NAME` names the account itself.</summary>
    private static bool NamesFolder(IReadOnlyList<string> args) => args.Contains("--folder");

    private static string RestoreValueMissing(string option) => option switch
    {
        "--from" => "--from needs the name of a replica from the settings' Replicas list",
        "--folder" => "--folder needs the name of a folder on the primary",
        _ => "--since needs a time, such as 2026-12-01 or 2026-12-01T08:00",
    };

    private static DateTimeOffset? ParseSince(string text) =>
        DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeLocal, out var parsed) ? parsed : null;
}

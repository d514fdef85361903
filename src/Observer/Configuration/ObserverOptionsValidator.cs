using Observer.State;
using System.Net;
using Microsoft.Extensions.Options;
using Observer.Mail;
using Observer.Replication;

namespace Observer.Configuration;

/// <summary>Checks the settings at start; each problem is one line naming the key and what to do.</summary>
public sealed class ObserverOptionsValidator : IValidateOptions<ObserverOptions>
{
    public ValidateOptionsResult Validate(string? name, ObserverOptions options)
    {
        var errors = new List<string>();
        if (options.HasAccountList)
        {
            Accounts(options, errors);
            if (WritableByOthers(options.AccountsFile) && options.Accounts.Any(a => a.FromFile && (a.Primary.HasMasterUser || a.Replica.HasMasterUser || a.ReplicaLogins.Any(l => l.Server.HasMasterUser))))
                errors.Add($"AccountsFile {options.AccountsFile} may be written by others than its owner, and its accounts log in as a master user: "
                    + $"whoever edits it could copy any mailbox anywhere; chmod go-w {options.AccountsFile}");
        }
        else
        {
            Endpoint("Primary", "primary", options.Primary, errors);
            if (!options.HasReplicaList) Endpoint("Replica", "replica", options.Replica, errors);
            foreach (var entry in options.Replicas) Endpoint(entry.Key, $"replica {entry.Name}", entry.Server, errors);
            var logins = new Dictionary<string, ReplicaOptions>(StringComparer.OrdinalIgnoreCase);
            foreach (var unit in errors.Count == 0 ? options.ConfiguredUnits : [])
            {
                var replica = options.Replicas.FirstOrDefault(r => r.Name == unit.Target.Name);
                var section = replica?.Key ?? "Replica";
                if (SameAccount(options.Primary, unit.Replica))
                    errors.Add($"Primary and {section} are the same account; point {section} at the server that should receive the copy");
                // Two replicas writing into one account would each take the other's copies for strays.
                else if (replica is not null && !logins.TryAdd(unit.Replica.Describe(), replica))
                    errors.Add($"{replica.Key} logs in to {unit.Replica.Describe()}, as {logins[unit.Replica.Describe()].Key} does; give each replica an account of its own");
            }
        }
        Replicas(options.Replicas, errors);

        CheckState(options.State, errors);
        if (!string.IsNullOrEmpty(options.State.SpoolDirectory) && !Directory.Exists(options.State.SpoolDirectory))
            errors.Add($"State:SpoolDirectory {options.State.SpoolDirectory} does not exist; create it (mode 0700, owned by the user observer runs as), or leave the setting out for the system's temp folder");

        var r = options.Replication;
        if (r.MaxConnections is < 2 or > 100) errors.Add($"Replication:MaxConnections is {r.MaxConnections}; it must be between 2 and 100");
        if (r.LiveAccounts is < 0 or > 10_000) errors.Add($"Replication:LiveAccounts is {r.LiveAccounts}; it must be between 0 (poll every account) and 10000");
        if (r.ParallelAccounts is < 1 or > 64) errors.Add($"Replication:ParallelAccounts is {r.ParallelAccounts}; it must be between 1 and 64");
        else if (r.MaxConnections is >= 2 and <= 100 && options.RunsSeveral && r.ConnectionBudget < (r.ParallelAccounts + 1) * r.ConnectionsPerAccount)
            errors.Add($"Replication:ConnectionBudget is {r.ConnectionBudget}; with MaxConnections {r.MaxConnections} and ParallelAccounts {r.ParallelAccounts} it must be at least {(r.ParallelAccounts + 1) * r.ConnectionsPerAccount}, room for one live account and the polls ({r.ConnectionsPerAccount} connections each)");
        else if (r.MaxConnections is >= 2 and <= 100 && !options.RunsSeveral && r.ConnectionBudget < r.ConnectionsPerAccount)
            errors.Add($"Replication:ConnectionBudget is {r.ConnectionBudget}; with MaxConnections {r.MaxConnections} it must be at least {r.ConnectionsPerAccount}");
        if (r.PollInterval < TimeSpan.FromSeconds(1)) errors.Add($"Replication:PollInterval is {r.PollInterval}; it must be at least 00:00:01");
        if (r.QuietPollInterval is { } quiet && (quiet < r.PollInterval || quiet > TimeSpan.FromHours(1)))
            errors.Add($"Replication:QuietPollInterval is {quiet}; it must be between Replication:PollInterval ({r.PollInterval}) and 01:00:00");
        if (r.ReconcileInterval < TimeSpan.FromSeconds(10)) errors.Add($"Replication:ReconcileInterval is {r.ReconcileInterval}; it must be at least 00:00:10");
        if (r.MaxDeletePercent is < 0 or > 100) errors.Add($"Replication:MaxDeletePercent is {r.MaxDeletePercent}; it must be between 0 and 100");
        if (r.MaxDeleteFloor < 0) errors.Add($"Replication:MaxDeleteFloor is {r.MaxDeleteFloor}; it cannot be negative");
        if (r.FolderDeleteDelay < TimeSpan.Zero || r.FolderDeleteDelay > TimeSpan.FromHours(1)) errors.Add($"Replication:FolderDeleteDelay is {r.FolderDeleteDelay}; it must be between 00:00:00 and 01:00:00");
        if (r.MoveWindow < TimeSpan.Zero || r.MoveWindow > TimeSpan.FromMinutes(5)) errors.Add($"Replication:MoveWindow is {r.MoveWindow}; it must be between 00:00:00 and 00:05:00");
        if (r.ParallelFolders is < 1 or > 32) errors.Add($"Replication:ParallelFolders is {r.ParallelFolders}; it must be between 1 and 32");
        if (r.AppendBatchSize is < 1 or > 1000) errors.Add($"Replication:AppendBatchSize is {r.AppendBatchSize}; it must be between 1 and 1000");
        if (r.AppendLanes is < 1 or > 4) errors.Add($"Replication:AppendLanes is {r.AppendLanes}; it must be between 1 and 4");
        if (r.AppendBatchBytes < 1024) errors.Add($"Replication:AppendBatchBytes is {r.AppendBatchBytes}; it must be at least 1024");
        if (r.MoveMinimumBytes < 0) errors.Add($"Replication:MoveMinimumBytes is {r.MoveMinimumBytes}; it must be 0 (move every message) or more");
        if (r.TroubleRetryDelay <= TimeSpan.Zero || r.TroubleMaxDelay < r.TroubleRetryDelay)
            errors.Add("Replication:TroubleRetryDelay must be positive and no more than Replication:TroubleMaxDelay");
        if (r.LowLatency.Interval < TimeSpan.FromMilliseconds(10) || r.LowLatency.Interval > TimeSpan.FromSeconds(10))
            errors.Add($"Replication:LowLatency:Interval is {r.LowLatency.Interval}; it must be between 00:00:00.010 and 00:00:10");
        if (r.LowLatency.ProbedFolders.Count > 8)
            errors.Add($"Replication:LowLatency:Folders names {r.LowLatency.ProbedFolders.Count} folders; probe at most 8, each costs a connection");
        if (r.JournalRetention < TimeSpan.Zero) errors.Add($"Replication:JournalRetention is {r.JournalRetention}; it cannot be negative");
        if (string.IsNullOrWhiteSpace(r.ReplicaName)) errors.Add("Replication:ReplicaName is empty; name this replica, e.g. replica");
        Roles(options, errors);

        if (options.Health.MaxLag <= TimeSpan.Zero) errors.Add($"Health:MaxLag is {options.Health.MaxLag}; it must be positive, such as 00:02:00");
        if (HttpUrlProblem(options.Http.Url) is { } http) errors.Add(http);
        var c = options.Reconnect;
        if (c.InitialDelay <= TimeSpan.Zero) errors.Add($"Reconnect:InitialDelay is {c.InitialDelay}; it must be positive");
        if (c.MaxDelay < c.InitialDelay) errors.Add($"Reconnect:MaxDelay ({c.MaxDelay}) is less than Reconnect:InitialDelay ({c.InitialDelay})");
        if (c.SyncAttempts < 1) errors.Add($"Reconnect:SyncAttempts is {c.SyncAttempts}; it must be at least 1");

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Letters, digits and what an e-mail address uses: a name that is safe in a log, a shell and a file name.</summary>
    /// <summary>What is wrong with the State section alone; also asked before the state is first read, to read it only when it makes sense.</summary>
    internal static List<string> StateProblems(StateOptions state)
    {
        var errors = new List<string>();
        CheckState(state, errors);
        return errors;
    }

    private static string? Unreadable(string path)
    {
        try
        {
            using var _ = File.OpenRead(path);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ex.Message;
        }
    }

    private static void CheckState(StateOptions state, List<string> errors)
    {
        if (state.Provider == StateProvider.PostgreSql)
        {
            if (string.IsNullOrWhiteSpace(state.ConnectionString))
                errors.Add("State:Provider is PostgreSql but State:ConnectionString is empty; give it, e.g. Host=db.example.org;Username=observer;Database=observer, and the password in State:PasswordFile or OBSERVER_State__Password");
            else if (StateLocation.ConnectionStringProblem(state.ConnectionString) is { } problem)
                errors.Add($"State:ConnectionString {problem}");
            if (!string.IsNullOrEmpty(state.PasswordFile) && !File.Exists(state.PasswordFile))
                errors.Add($"State:PasswordFile '{state.PasswordFile}' does not exist");
            else if (!string.IsNullOrEmpty(state.PasswordFile) && Unreadable(state.PasswordFile) is { } why)
                errors.Add($"State:PasswordFile '{state.PasswordFile}' cannot be read ({why}); make it readable by the user observer runs as, and by no one else");
            if (!string.IsNullOrEmpty(state.PasswordFile) && !string.IsNullOrEmpty(state.Password))
                errors.Add("State:Password and State:PasswordFile are both set; keep one");
            if (state.LeaseTime < TimeSpan.FromSeconds(5) || state.LeaseTime > TimeSpan.FromMinutes(30))
                errors.Add($"State:LeaseTime is {state.LeaseTime}; it must be between 00:00:05 and 00:30:00 (how soon other workers take over a dead worker's accounts)");
            return;
        }
        if (!string.IsNullOrWhiteSpace(state.ConnectionString))
            errors.Add("State:ConnectionString is set but State:Provider is Sqlite (the default); set State:Provider to PostgreSql to share the state, or remove the connection string");
        if (string.IsNullOrWhiteSpace(state.Path)) errors.Add("State:Path is empty; give the path of the state database, e.g. /var/lib/observer/observer.db");
        else if (Directory.Exists(state.Path))
            errors.Add($"State:Path {state.Path} is a folder; give a file name, e.g. {Path.Combine(state.Path, "observer.db")}");
    }

    private static bool IsAccountName(string name) => name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '@' or '+' or '-');

    private static bool WritableByOthers(string? path) =>
        !OperatingSystem.IsWindows() && path is not null && File.Exists(path) && (File.GetUnixFileMode(path) & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0;

    private static string? NameProblem(AccountOptions account, Dictionary<string, AccountOptions> byName)
    {
        // A file's line has no key for its name: the line itself is named.
        var what = account.FromFile ? $"{account.Key}: '{account.Name}'" : $"{account.Key}:Name '{account.Name}'";
        if (account.Name.Length == 0) return $"{account.Key}:Name is not set; name each account, e.g. the user's login";
        if (!IsAccountName(account.Name)) return $"{what} may hold only letters, digits and . _ @ + -";
        if (!byName.TryAdd(account.Name, account)) return $"{what} is also {byName[account.Name].Key}'s; each account needs a name of its own";
        return null;
    }

    /// <summary>The primary's name, which a failover makes a replica's, and the promotion the state records.</summary>
    private static void Roles(ObserverOptions options, List<string> errors)
    {
        var name = options.Replication.PrimaryName;
        if (name.Length == 0 || name.Length > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            errors.Add($"Replication:PrimaryName '{name}' may hold only letters, digits and . _ - (at most 64), e.g. primary or the server's host name");
        // Only a promotion needs the name (settings from before failover may have a replica called primary): `promote` checks it too.
        else if (options.Promoted is not null && options.ConfiguredReplicaNames.Contains(name, StringComparer.OrdinalIgnoreCase))
            errors.Add(PrimaryNameTaken(name));
        if (options.Promoted is { } promoted && !options.ConfiguredReplicaNames.Contains(promoted))
            errors.Add($"the state database {options.State.Describe} says replica '{promoted}' was promoted to primary (observer promote), but the settings have no replica '{promoted}'; "
                + $"put its entry back in Replicas (or set Replication:ReplicaName to '{promoted}')");
    }

    public static string PrimaryNameTaken(string name) =>
        $"Replication:PrimaryName '{name}' is also a replica's name; give the primary a name of its own, such as its host name";

    /// <summary>The Replicas list: each entry named once, and its policy's settings only where they apply.</summary>
    private static void Replicas(List<ReplicaOptions> replicas, List<string> errors)
    {
        var byName = new Dictionary<string, ReplicaOptions>(StringComparer.OrdinalIgnoreCase);
        foreach (var r in replicas)
        {
            if (r.Name.Length == 0) errors.Add($"{r.Key}:Name is not set; name each replica, e.g. standby or archive");
            else if (r.Name.Length > 64 || !r.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
                errors.Add($"{r.Key}:Name '{r.Name}' may hold only letters, digits and . _ - (at most 64)");
            else if (!byName.TryAdd(r.Name, r)) errors.Add($"{r.Key}:Name '{r.Name}' is also {byName[r.Name].Key}'s; each replica needs a name of its own");
            if (r.Policy == ReplicaPolicy.Delayed && (r.Delay < TimeSpan.FromSeconds(1) || r.Delay > TimeSpan.FromDays(90)))
                errors.Add($"{r.Key}:Delay is {r.Delay}; a Delayed replica needs one between 00:00:01 and 90.00:00:00, e.g. 1.00:00:00 for a day");
            if (r.Policy != ReplicaPolicy.Delayed && r.Delay != TimeSpan.Zero)
                errors.Add($"{r.Key}:Delay only applies to a Delayed replica; set {r.Key}:Policy=Delayed, or remove the Delay");
            if (r.ArchiveKeyword is { } keyword && r.Policy != ReplicaPolicy.Archive)
                errors.Add($"{r.Key}:ArchiveKeyword only applies to an Archive; set {r.Key}:Policy=Archive, or remove the ArchiveKeyword");
            else if (r.ArchiveKeyword is { } word && (word.Length == 0 || word.StartsWith('\\') || word.Any(c => c <= ' ' || c >= 127 || "(){%*\"]\\".Contains(c))))
                errors.Add($"{r.Key}:ArchiveKeyword '{word}' is not an IMAP keyword; use letters, digits and $ _ - . such as $Expunged");
        }
    }

    private static void Accounts(ObserverOptions options, List<string> errors)
    {
        var byName = new Dictionary<string, AccountOptions>(StringComparer.OrdinalIgnoreCase);
        var byReplicaLogin = new Dictionary<string, AccountOptions>(StringComparer.OrdinalIgnoreCase);
        var byPrimaryLogin = new Dictionary<string, AccountOptions>(StringComparer.OrdinalIgnoreCase);
        var fileEndpointsTold = false;
        var named = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var account in options.ConfiguredUnits)
        {
            // An account of several replicas is several units: its name and primary are checked with its first.
            var first = !named.ContainsKey(account.Key);
            var nameProblem = first ? NameProblem(account, byName) : named[account.Key];
            named[account.Key] = nameProblem;
            if (nameProblem is not null && first) errors.Add(nameProblem);

            // A line of the AccountsFile has only its users: everything else is fixed in the Primary and Replica sections.
            var endpointErrors = new List<string>();
            if (first) Endpoint(account.FromFile ? "Primary" : account.Key + ":Primary", "primary", account.Primary, endpointErrors);
            var replicaSection = !account.NamesReplica ? (account.FromFile ? "Replica" : account.Key + ":Replica")
                : account.FromFile ? options.Replicas.First(r => r.Name == account.Target.Name).Key : account.Replica.Section;
            Endpoint(replicaSection, account.NamesReplica ? $"replica {account.Target.Name}" : "replica", account.Replica, endpointErrors);
            // Every line inherits the same sections: their mistake is told once, not once a line.
            if (!account.FromFile) errors.AddRange(endpointErrors);
            else if (!fileEndpointsTold) errors.AddRange(endpointErrors.Select(e => $"{account.Label}: {e}"));
            fileEndpointsTold |= account.FromFile && endpointErrors.Count > 0;
            // A repeated name is usually a repeated account: its replica login is then told as repeated too, needlessly.
            if (endpointErrors.Count > 0 || nameProblem is not null) continue;
            if (SameAccount(account.Primary, account.Replica))
                errors.Add($"{account.Label}: Primary and Replica are the same account; point its Replica at the server that should receive the copy");
            // Two accounts copied into one replica account would each delete the other's mail as extras.
            else if (!byReplicaLogin.TryAdd(account.Replica.Describe(), account))
                errors.Add($"{account.Label}: its replica login {account.Replica.Describe()} is also {byReplicaLogin[account.Replica.Describe()].Label}'s; give each account a replica account of its own");
            // Most often a Username inherited from the top-level section that the account forgot to override.
            else if (first && !byPrimaryLogin.TryAdd(account.Primary.Describe(), account))
                errors.Add($"{account.Label}: its primary login {account.Primary.Describe()} is also {byPrimaryLogin[account.Primary.Describe()].Label}'s; give each account its own Primary:Username");
        }
    }

    private static void Endpoint(string section, string role, EndpointOptions e, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(e.Host)) errors.Add($"{section}:Host is not set; give the {role} server's host name");
        if (e.Port is < 0 or > 65535) errors.Add($"{section}:Port is {e.Port}; it must be between 1 and 65535 (or 0 for the default)");
        if (string.IsNullOrWhiteSpace(e.Username)) errors.Add($"{section}:Username is not set; give the account to log in as");
        if (!string.IsNullOrEmpty(e.PasswordCommand))
        {
            if (!string.IsNullOrEmpty(e.PasswordFile)) errors.Add($"{section}:PasswordCommand and {section}:PasswordFile are both set; keep one");
            if (e.PasswordCommandTimeout <= TimeSpan.Zero) errors.Add($"{section}:PasswordCommandTimeout is {e.PasswordCommandTimeout}; it must be positive, such as 00:00:30");
        }
        else if (!string.IsNullOrEmpty(e.PasswordFile))
        {
            if (!File.Exists(e.PasswordFile)) errors.Add($"{section}:PasswordFile '{e.PasswordFile}' does not exist");
        }
        else if (string.IsNullOrEmpty(e.Password))
        {
            errors.Add($"{section}:Password is not set; set {section}:PasswordFile or {section}:PasswordCommand, or OBSERVER_{section.Replace(":", "__", StringComparison.Ordinal)}__Password in the environment");
        }
        if (e.AuthMechanism.ToUpperInvariant() is not ("AUTO" or "LOGIN" or "PLAIN" or "SCRAM-SHA-256" or "SCRAM-SHA-1" or "XOAUTH2" or "OAUTHBEARER"))
            errors.Add($"{section}:AuthMechanism is '{e.AuthMechanism}'; use Auto, Login, Plain, SCRAM-SHA-256, SCRAM-SHA-1, XOAuth2 or OAuthBearer");
        if (e.HasMasterUser && string.IsNullOrEmpty(e.MasterUserSeparator) && e.AuthMechanism.ToUpperInvariant() is not ("AUTO" or "PLAIN"))
            errors.Add($"{section}:MasterUser without {section}:MasterUserSeparator logs in by SASL PLAIN; set {section}:AuthMechanism to Plain or Auto, or give {section}:MasterUserSeparator (Dovecot: *)");
        if (!e.HasMasterUser && !string.IsNullOrEmpty(e.MasterUserSeparator))
            errors.Add($"{section}:MasterUserSeparator is set but {section}:MasterUser is not; name the master user, or remove the separator");
        if (e.ConnectTimeout <= TimeSpan.Zero || e.CommandTimeout <= TimeSpan.Zero) errors.Add($"{section}:ConnectTimeout and {section}:CommandTimeout must be positive");
        if (e.Security == ImapSecurity.None && !e.AllowPlaintextLogin && !string.IsNullOrWhiteSpace(e.Host) && !EndpointOptions.IsLoopback(e.Host))
            errors.Add($"{section}: refusing to send the password in clear text to {e.Host}; set {section}:Security=Tls or StartTls, or {section}:AllowPlaintextLogin=true on a trusted network");
    }

    private static bool SameAccount(EndpointOptions a, EndpointOptions b) =>
        a.Host.Equals(b.Host, StringComparison.OrdinalIgnoreCase) && a.EffectivePort == b.EffectivePort && a.Username == b.Username;

    /// <summary>The status page and metrics name accounts and folders: loopback only, plain HTTP, behind a proxy of the admin's choice for more.</summary>
    private static string? HttpUrlProblem(string? url)
    {
        if (string.IsNullOrEmpty(url)) return null;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.IsDefaultPort && !url.Contains(":80", StringComparison.Ordinal))
            return $"Http:Url '{url}' is not an http:// address with a port; give one such as http://127.0.0.1:9477";
        if (uri.AbsolutePath != "/" || uri.Query.Length > 0)
            return $"Http:Url '{url}' has a path; give only the address and port, such as http://127.0.0.1:9477 (the endpoint serves /, /metrics and /healthz)";
        var loopback = uri.Host == "localhost" || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
        return loopback ? null
            : $"Http:Url '{url}' is not a loopback address; Observer serves its status only on 127.0.0.1, [::1] or localhost. To reach it from elsewhere, put a reverse proxy with TLS and authentication in front";
    }
}

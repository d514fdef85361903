using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.CommandLine;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Observer.Cli;
using Observer.Replication;
using Observer.State;

namespace Observer.Configuration;

/// <summary>A mistake in the settings, described in one line.</summary>
public sealed class ConfigurationProblemException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Builds the configuration in order of precedence: the settings file, then OBSERVER_ environment
/// variables, then --Section:Key=value arguments. Relative paths are taken from the settings file's folder.
/// </summary>
public static class ObserverConfiguration
{
    public const string EnvironmentPrefix = "OBSERVER_";

    public static (IConfigurationRoot Configuration, string? File) Build(CommandLineArguments arguments)
    {
        var file = ResolveFile(arguments.ConfigFile);
        var builder = new ConfigurationBuilder();
        if (file is not null)
        {
            try
            {
                builder.AddJsonFile(file, optional: false, reloadOnChange: false);
            }
            catch (Exception ex) when (ex is FileNotFoundException or IOException)
            {
                throw new ConfigurationProblemException($"cannot read settings file {file}: {ex.Message}", ex);
            }
        }
        builder.AddEnvironmentVariables(EnvironmentPrefix);
        builder.AddCommandLine(arguments.Overrides.ToArray());
        IConfigurationRoot root;
        try
        {
            root = builder.Build();
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException or System.Text.Json.JsonException)
        {
            throw new ConfigurationProblemException($"settings file {file} is not valid JSON: {ex.Message.Split('\n')[0]}", ex);
        }
        RejectUnknownSections(root, file);
        return (root, file);
    }

    /// <summary>The sections a setting can be in; <see cref="BindInto"/> binds all but Logging, which the logging system reads.</summary>
    private static readonly string[] Sections = ["Primary", "Replica", "Replicas", "Accounts", "State", "Replication", "Reconnect", "Health", "Http", "Logging"];

    /// <summary>
    /// Binding checks the keys of each section it binds, but a section nobody binds (a typo such as
    /// --Primray:Host=x) would vanish without a word. So every top-level name, from every source, must be a known section.
    /// </summary>
    private static void RejectUnknownSections(IConfigurationRoot root, string? file)
    {
        foreach (var provider in root.Providers)
        {
            foreach (var name in provider.GetChildKeys([], null).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                if (Sections.Contains(name, StringComparer.OrdinalIgnoreCase) || IsTopLevelSetting(provider, name)) continue;
                // OBSERVER_ variables without a section (OBSERVER_TESTSERVERS_DIR) belong to other tools: every setting has a section.
                if (provider is EnvironmentVariablesConfigurationProvider && !provider.GetChildKeys([], name).Any()) continue;
                var where = provider switch
                {
                    EnvironmentVariablesConfigurationProvider => $"environment variable {EnvironmentPrefix}{name}__...",
                    CommandLineConfigurationProvider => $"--{name}:... on the command line",
                    _ => $"settings file {file}",
                };
                throw new ConfigurationProblemException(
                    $"there is no settings section '{name}' ({where}); check the spelling: the sections are {string.Join(", ", Sections[..^1])} and {Sections[^1]}");
            }
        }
    }

    /// <summary>The one setting outside a section: a plain value, never a section of its own.</summary>
    private static bool IsTopLevelSetting(IConfigurationProvider provider, string name) =>
        name.Equals(nameof(ObserverOptions.AccountsFile), StringComparison.OrdinalIgnoreCase) && !provider.GetChildKeys([], name).Any();

    private static string? ResolveFile(string? named)
    {
        if (named is not null)
        {
            var full = Path.GetFullPath(named);
            return File.Exists(full) ? full : throw new ConfigurationProblemException($"settings file {named} does not exist; check --config");
        }
        foreach (var candidate in new[] { Path.GetFullPath("appsettings.json"), Path.Combine(AppContext.BaseDirectory, "appsettings.json") })
            if (File.Exists(candidate)) return candidate;
        return null;
    }

    /// <summary>Binds each section strictly: a misspelt key is an error, not a silently ignored line.</summary>
    public static void BindInto(ObserverOptions options, IConfiguration configuration, string? settingsFile)
    {
        // Each call names its type, so the binder's source generator writes the binding ahead of time
        // (no reflection: the same code in every build, native or not).
        Bind(configuration, "Primary", section => section.Bind(options.Primary, Strict));
        Bind(configuration, "Replica", section => section.Bind(options.Replica, Strict));
        Bind(configuration, "State", section => section.Bind(options.State, Strict));
        Bind(configuration, "Replication", section => section.Bind(options.Replication, Strict));
        Bind(configuration, "Reconnect", section => section.Bind(options.Reconnect, Strict));
        Bind(configuration, "Health", section => section.Bind(options.Health, Strict));
        Bind(configuration, "Http", section => section.Bind(options.Http, Strict));
        var replicas = BindReplicas(configuration);
        options.Replicas.AddRange(replicas.Select(r => r.Replica));
        foreach (var entry in configuration.GetSection("Accounts").GetChildren()) options.Accounts.Add(BindAccount(configuration, entry, replicas));
        var baseDirectory = settingsFile is null ? Environment.CurrentDirectory : Path.GetDirectoryName(settingsFile)!;
        options.AccountsFile = Rooted(configuration[nameof(ObserverOptions.AccountsFile)], baseDirectory);
        if (!string.IsNullOrWhiteSpace(options.AccountsFile))
            foreach (var line in AccountsFile.Read(options.AccountsFile)) options.Accounts.Add(FileAccount(configuration, options.AccountsFile, line, replicas));
        options.State.Path = Rooted(options.State.Path, baseDirectory)!;
        options.State.SpoolDirectory = Rooted(options.State.SpoolDirectory, baseDirectory);
        options.State.PasswordFile = Rooted(options.State.PasswordFile, baseDirectory);
        foreach (var endpoint in options.Accounts.SelectMany(a => a.ReplicaLogins.Select(l => l.Server).Append(a.Primary).Append(a.Replica))
                     .Concat(options.Replicas.Select(r => r.Server)).Append(options.Primary).Append(options.Replica).Distinct())
        {
            endpoint.PasswordFile = Rooted(endpoint.PasswordFile, baseDirectory);
            endpoint.InDirectory(baseDirectory);
        }
        options.PromotedInState(ReadPromotion(options.State));
    }

    /// <summary>Which server `observer promote` made the primary: kept in the state database, so that every command and a reload agree.</summary>
    private static string? ReadPromotion(StateOptions state)
    {
        try
        {
            // Settings the check will refuse are not used to reach a database; the check names what is wrong.
            if (state.Provider == StateProvider.PostgreSql)
                return ObserverOptionsValidator.StateProblems(state).Count > 0 ? null : StateStore.ReadPromotedPrimary(state.Location);
            return string.IsNullOrWhiteSpace(state.Path) || Directory.Exists(state.Path) ? null : StateStore.ReadPromotedPrimary(StateLocation.File(state.Path));
        }
        catch (StateException ex)
        {
            throw new ConfigurationProblemException(ex.Message);
        }
    }

    private static readonly string[] AccountKeys = ["Name", "Primary", "Replica"];

    /// <summary>
    /// An account's logins are the top-level Primary and Replica sections with the entry's own keys bound over them,
    /// so a server given once serves every account, and any account can still point elsewhere.
    /// </summary>
    private static AccountOptions BindAccount(IConfiguration configuration, IConfigurationSection entry, IReadOnlyList<(ReplicaOptions Replica, IConfigurationRoot Server)> replicas)
    {
        var key = "Accounts:" + entry.Key;
        var unknown = entry.GetChildren().Select(c => c.Key).FirstOrDefault(k => !AccountKeys.Contains(k, StringComparer.OrdinalIgnoreCase));
        if (unknown is not null)
            throw new ConfigurationProblemException($"{key} has no setting '{unknown}'; an account has Name, Primary and Replica (see README, Accounts)");
        var account = new AccountOptions { Key = key, Name = entry["Name"]?.Trim() ?? "" };
        account.Primary.From(key + ":Primary");
        account.Replica.From(key + ":Replica");
        Bind(configuration, "Primary", section => section.Bind(account.Primary, Strict));
        Bind(configuration, key + ":Primary", section => section.Bind(account.Primary, Strict));
        Bind(configuration, "Replica", section => section.Bind(account.Replica, Strict));
        Bind(configuration, key + ":Replica", section => section.Bind(account.Replica, Strict));
        foreach (var (replica, server) in replicas)
        {
            var login = new EndpointOptions();
            login.From($"{key}:Replica");
            BindWhole(server, replica.Key, section => section.Bind(login, Strict));
            Bind(configuration, key + ":Replica", section => section.Bind(login, Strict));
            account.ReplicaLogins.Add(new ReplicaLogin(replica, login));
        }
        return account;
    }

    /// <summary>An account of the AccountsFile: the top-level Primary and Replica with the line's users.</summary>
    private static AccountOptions FileAccount(IConfiguration configuration, string file, AccountsFile.Line line, IReadOnlyList<(ReplicaOptions Replica, IConfigurationRoot Server)> replicas)
    {
        var account = new AccountOptions { Key = $"{Path.GetFileName(file)} line {line.Number}", Name = line.Name, FromFile = true };
        Bind(configuration, "Primary", section => section.Bind(account.Primary, Strict));
        Bind(configuration, "Replica", section => section.Bind(account.Replica, Strict));
        account.Primary.Username = line.PrimaryUser;
        account.Replica.Username = line.ReplicaUser;
        foreach (var (replica, server) in replicas)
        {
            var login = new EndpointOptions();
            BindWhole(server, replica.Key, section => section.Bind(login, Strict));
            login.Username = line.ReplicaUser;
            account.ReplicaLogins.Add(new ReplicaLogin(replica, login));
        }
        return account;
    }

    /// <summary>
    /// The Replicas list: each entry's Name, Policy, Delay and ArchiveKeyword, and its other keys as the server settings of
    /// a Replica section (kept apart, so an account's own Replica keys can be bound over them). The Replica section then
    /// has nothing to say: two places for one replica's settings would leave an admin guessing which one counts.
    /// </summary>
    private static List<(ReplicaOptions Replica, IConfigurationRoot Server)> BindReplicas(IConfiguration configuration)
    {
        var entries = configuration.GetSection("Replicas").GetChildren().ToList();
        if (entries.Count == 0) return [];
        if (configuration.GetSection("Replica").GetChildren().Any())
            throw new ConfigurationProblemException("both Replica and Replicas are set; with a Replicas list, give each replica's server and login in its entry and remove the Replica section");
        var replicas = new List<(ReplicaOptions, IConfigurationRoot)>();
        foreach (var entry in entries)
        {
            var key = "Replicas:" + entry.Key;
            bool IsPolicy(string path) => ReplicaOptions.PolicyKeys.Contains(path.Split(':')[0], StringComparer.OrdinalIgnoreCase);
            var values = entry.AsEnumerable(makePathsRelative: true).Where(kv => kv.Value is not null).ToList();
            var server = new ConfigurationBuilder().AddInMemoryCollection(values.Where(kv => !IsPolicy(kv.Key))).Build();
            var policy = new ConfigurationBuilder().AddInMemoryCollection(values.Where(kv => IsPolicy(kv.Key))).Build();
            var endpoint = new EndpointOptions();
            endpoint.From(key);
            BindWhole(server, key, section => section.Bind(endpoint, Strict));
            var replica = ReplicaOptions.At(key, endpoint);
            BindWhole(policy, key, section => section.Bind(replica, Strict));
            replica.Name = replica.Name.Trim();
            replicas.Add((replica, server));
        }
        return replicas;
    }

    private static void Strict(BinderOptions options) => options.ErrorOnUnknownConfiguration = true;

    private static void Bind(IConfiguration configuration, string section, Action<IConfigurationSection> bind)
    {
        try
        {
            bind(configuration.GetSection(section));
        }
        catch (InvalidOperationException ex)
        {
            throw new ConfigurationProblemException(Explain(section, ex), ex);
        }
    }

    /// <summary>Binds the whole of <paramref name="settings"/> (an entry of a list, set apart), naming <paramref name="section"/> in errors.</summary>
    private static void BindWhole(IConfigurationRoot settings, string section, Action<IConfiguration> bind)
    {
        try
        {
            bind(settings);
        }
        catch (InvalidOperationException ex)
        {
            throw new ConfigurationProblemException(Explain(section, ex, keyPrefix: section + ":"), ex);
        }
    }

    /// <summary>Turns the binder's messages into one line that names the key.</summary>
    /// <param name="keyPrefix">Put before the key the binder names, where it bound a part set apart (an entry of a list).</param>
    private static string Explain(string section, InvalidOperationException ex, string keyPrefix = "")
    {
        var message = ex.Message;
        if (message.Contains("were not found on the instance", StringComparison.Ordinal))
        {
            var names = message[(message.LastIndexOf(':') + 1)..].Trim().Trim('.');
            return $"{section} has no setting {names}; check the spelling (see README, Configuration)";
        }
        var at = message.IndexOf("at '", StringComparison.Ordinal);
        if (at >= 0)
        {
            var key = keyPrefix + message[(at + 4)..message.IndexOf('\'', at + 4)];
            var type = message.Contains("TimeSpan", StringComparison.Ordinal) ? "a duration such as 00:00:30"
                : message.Contains("Int", StringComparison.Ordinal) ? "a whole number"
                : message.Contains("Boolean", StringComparison.Ordinal) ? "true or false"
                : message.Contains("Security", StringComparison.Ordinal) ? "None, StartTls or Tls"
                : message.Contains("ReplicaPolicy", StringComparison.Ordinal) ? "Mirror, Delayed or Archive"
                : message.Contains("Compression", StringComparison.Ordinal) ? "Auto, On or Off"
                : message.Contains("Mode", StringComparison.Ordinal) ? "one of the documented values"
                : "a valid value";
            return $"{key} has an invalid value; it must be {type}";
        }
        return $"{section}: {message}";
    }

    private static string? Rooted(string? path, string baseDirectory)
    {
        try
        {
            return string.IsNullOrWhiteSpace(path) || Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(baseDirectory, path));
        }
        catch (ArgumentException ex)
        {
            throw new ConfigurationProblemException($"'{path?.Replace("\0", "\\0", StringComparison.Ordinal)}' is not a valid path ({ex.Message}); check the settings' file names", ex);
        }
    }
}

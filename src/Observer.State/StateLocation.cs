namespace Observer.State;

/// <summary>Which database holds the state: an SQLite file on this box (the default), or PostgreSQL shared by several workers.</summary>
public enum StateProvider
{
    Sqlite,
    PostgreSql,
}

/// <summary>Where the state lives, as the settings give it (State:Provider, State:Path or State:ConnectionString).</summary>
public sealed record StateLocation(StateProvider Provider, string Path, string? ConnectionString = null)
{
    public static StateLocation File(string path) => new(StateProvider.Sqlite, System.IO.Path.GetFullPath(path));

    public bool Shared => Provider == StateProvider.PostgreSql;

    /// <summary>
    /// Whether there is a state to read. A shared database always counts as there (whether its schema is, reading it tells);
    /// a file must exist, so a mistyped path is never created by a command that only reads.
    /// </summary>
    public bool MayExist => Shared || System.IO.File.Exists(Path);

    /// <summary>How messages name it: the file, or the PostgreSQL database without its password.</summary>
    public string Describe => Shared ? Databases.PostgreSqlStateDatabase.Name(ConnectionString!) : Path;

    public override string ToString() => Describe;

    /// <summary>What is wrong with a PostgreSQL connection string, in words for the settings' error, or null.</summary>
    public static string? ConnectionStringProblem(string connectionString) => Databases.PostgreSqlStateDatabase.Problem(connectionString);

    /// <summary>The connection string with the password from a file or the environment, when there is one.</summary>
    public static string WithPassword(string connectionString, string? password) => Databases.PostgreSqlStateDatabase.WithPassword(connectionString, password);
}

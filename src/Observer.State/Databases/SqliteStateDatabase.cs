using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Observer.State.Databases;

/// <summary>
/// The embedded default: one SQLite file, one connection. The file and its WAL are readable only by the owner,
/// and the integrity check runs at every open.
/// </summary>
internal sealed class SqliteStateDatabase : StateDatabase
{
    private readonly SqliteConnection _connection;
    private readonly string _path;

    private SqliteStateDatabase(SqliteConnection connection, string path) => (_connection, _path) = (connection, path);

    public override DbConnection Connection => _connection;

    public override bool Shared => false;

    public override string Describe => _path;

    public static SqliteStateDatabase Open(string path)
    {
        try
        {
            CreatePrivately(path);
            var connection = Connect(path, SqliteOpenMode.ReadWriteCreate);
            // WAL lets `observer status` read while the service writes. synchronous=NORMAL survives a
            // killed process; after a power loss the newest commits may roll back, which recovery handles
            // like any crash: copies on the replica are found again by MD5, never uploaded twice.
            Execute(connection, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;");
            return new SqliteStateDatabase(connection, path);
        }
        catch (Exception ex) when (ex is SqliteException or UnauthorizedAccessException)
        {
            throw CannotOpen(path, ex);
        }
    }

    /// <summary>Opens an existing file for reading only: nothing is created or migrated, so a mistyped State:Path leaves nothing behind.</summary>
    public static SqliteStateDatabase OpenReadOnly(string path)
    {
        SqliteConnection? connection = null;
        try
        {
            connection = Connect(path, SqliteOpenMode.ReadOnly);
            Execute(connection, "PRAGMA busy_timeout = 10000;");
            return new SqliteStateDatabase(connection, path);
        }
        catch (SqliteException ex)
        {
            connection?.Dispose();
            throw new StateException($"cannot read state database {path}: {ex.Message}", ex);
        }
    }

    /// <summary>The server `observer promote` made the primary, or null (no file, a schema before failover, or none promoted).</summary>
    public static string? ReadPromotedPrimary(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var connection = Connect(path, SqliteOpenMode.ReadOnly);
            Execute(connection, "PRAGMA busy_timeout = 10000;");
            if (Scalar(connection, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'roles'") is null) return null;
            return Scalar(connection, "SELECT primary_name FROM roles WHERE id = 1") as string;
        }
        catch (SqliteException ex)
        {
            throw new StateException($"cannot read state database {path}: {ex.Message}", ex);
        }
    }

    private static SqliteConnection Connect(string path, SqliteOpenMode mode)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = mode, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    public override void CheckAndMigrate()
    {
        try
        {
            var check = Scalar(_connection, "PRAGMA quick_check") as string;
            if (check != "ok") throw new StateException($"state database {_path} is corrupt ({check}); restore it from a backup or delete it to start over");
            SchemaMigrator.Migrate(_connection);
            RestrictCompanions(_path);
        }
        catch (Exception ex) when (ex is SqliteException or UnauthorizedAccessException)
        {
            throw CannotOpen(_path, ex);
        }
    }

    public override void EnsureCurrent()
    {
        try
        {
            SchemaMigrator.EnsureCurrent(_connection, _path);
        }
        catch (SqliteException ex)
        {
            throw new StateException($"cannot read state database {_path}: {ex.Message}", ex);
        }
    }

    // A local file's errors (a full disk, a damaged page) are reported where they happen, as they always were.
    public override Exception? Translate(Exception error) => null;

    public override string[] Replace(string table, string keyCondition, string insert) => [$"INSERT OR REPLACE INTO {table} {insert}"];

    private static StateException CannotOpen(string path, Exception ex) => new($"cannot open state database {path}: {ex.Message}", ex);

    /// <summary>Creates the database file (and its folder) with owner-only permissions before SQLite opens it.</summary>
    private static void CreatePrivately(string path)
    {
        var directory = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
            else Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        if (OperatingSystem.IsWindows()) return;
        if (!File.Exists(path))
        {
            using var _ = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>SQLite gives -wal and -shm the main file's mode; this also tightens files left by an older, laxer setup.</summary>
    private static void RestrictCompanions(string path)
    {
        if (OperatingSystem.IsWindows()) return;
        foreach (var suffix in new[] { "-wal", "-shm" })
            if (File.Exists(path + suffix)) File.SetUnixFileMode(path + suffix, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    public override void Dispose() => _connection.Dispose();
}

using Microsoft.Data.Sqlite;

namespace Observer.State;

/// <summary>
/// The SQLite state database: UID maps, checkpoints, the journal of replica writes and folders in
/// trouble. One connection, used under a lock; the file and its WAL are readable only by the owner.
/// </summary>
public sealed class StateStore : IDisposable
{
    private readonly SqliteConnection _connection;
    private SqliteTransaction? _transaction;

    /// <summary>The integrity check and migration begun at open; every statement waits for it.</summary>
    private readonly Task _opening;

    private StateStore(SqliteConnection connection, TimeProvider time, Task? opening = null)
    {
        _connection = connection;
        _opening = opening ?? Task.CompletedTask;
        Time = time;
        Replicas = new ReplicaRepository(this);
        Folders = new FolderRepository(this);
        Messages = new MessageRepository(this);
        Kept = new KeptMessageRepository(this);
        Journal = new JournalRepository(this);
        Troubles = new TroubleRepository(this);
        Service = new ServiceRepository(this);
        Holds = new HoldRepository(this);
        Failovers = new FailoverRepository(this);
        HeldFlags = new HeldFlagRepository(this);
    }

    internal Lock Gate { get; } = new();

    internal TimeProvider Time { get; }

    public ReplicaRepository Replicas { get; }
    public FolderRepository Folders { get; }
    public MessageRepository Messages { get; }
    public KeptMessageRepository Kept { get; }
    public JournalRepository Journal { get; }
    public TroubleRepository Troubles { get; }
    public ServiceRepository Service { get; }
    public HoldRepository Holds { get; }
    public FailoverRepository Failovers { get; }
    public HeldFlagRepository HeldFlags { get; }

    public static StateStore Open(string path, TimeProvider? time = null)
    {
        var full = Path.GetFullPath(path);
        try
        {
            CreatePrivately(full);
            var connection = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = full,
                Mode = SqliteOpenMode.ReadWriteCreate,
                Pooling = false,
            }.ToString());
            connection.Open();
            // WAL lets `observer status` read while the service writes. synchronous=NORMAL survives a
            // killed process; after a power loss the newest commits may roll back, which recovery handles
            // like any crash: copies on the replica are found again by MD5, never uploaded twice.
            Execute(connection, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;");
            // The check reads every page (a fifth of a one-shot sync's start on a state of 5,000 messages), so
            // it runs beside what follows, such as logging in to both servers. Nothing reads or writes the
            // state before it has passed, and a database that fails it is neither migrated nor used.
            return new StateStore(connection, time ?? TimeProvider.System, Task.Run(() => CheckAndMigrate(connection, full)));
        }
        catch (Exception ex) when (ex is SqliteException or UnauthorizedAccessException)
        {
            throw CannotOpen(full, ex);
        }
    }

    private static StateException CannotOpen(string full, Exception ex) => new($"cannot open state database {full}: {ex.Message}", ex);

    private static void CheckAndMigrate(SqliteConnection connection, string full)
    {
        try
        {
            var check = Scalar(connection, "PRAGMA quick_check") as string;
            if (check != "ok") throw new StateException($"state database {full} is corrupt ({check}); restore it from a backup or delete it to start over");
            SchemaMigrator.Migrate(connection);
            RestrictCompanions(full);
        }
        catch (Exception ex) when (ex is SqliteException or UnauthorizedAccessException)
        {
            throw CannotOpen(full, ex);
        }
    }

    /// <summary>The check begun at open, to wait for beside other work; it fails with the <see cref="StateException"/>.</summary>
    public Task Opened => _opening;

    /// <summary>
    /// Waits for the check begun at open; throws its <see cref="StateException"/> to every caller if it failed.
    /// Every statement calls it; a service calls it before it starts, to fail in one line rather than mid-start.
    /// </summary>
    public void WaitUntilOpen()
    {
        if (!_opening.IsCompletedSuccessfully) _opening.GetAwaiter().GetResult();
    }

    /// <summary>
    /// Opens an existing database for reading only (`observer status`): it creates, migrates and changes
    /// nothing, so a mistyped State:Path does not leave an empty database behind.
    /// </summary>
    public static StateStore OpenReadOnly(string path, TimeProvider? time = null)
    {
        var full = Path.GetFullPath(path);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        try
        {
            connection.Open();
            Execute(connection, "PRAGMA busy_timeout = 10000;");
            SchemaMigrator.EnsureCurrent(connection, full);
            return new StateStore(connection, time ?? TimeProvider.System);
        }
        catch (SqliteException ex)
        {
            connection.Dispose();
            throw new StateException($"cannot read state database {full}: {ex.Message}", ex);
        }
        catch (StateException)
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The server `observer promote` made the primary, read when the settings are: null when there is no state database
    /// yet, or it predates failover, or the settings' own primary is the primary. Reads only; creates and migrates nothing.
    /// </summary>
    public static string? ReadPromotedPrimary(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) return null;
        try
        {
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = full, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            connection.Open();
            Execute(connection, "PRAGMA busy_timeout = 10000;");
            if (Scalar(connection, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'roles'") is null) return null;
            return Scalar(connection, "SELECT primary_name FROM roles WHERE id = 1") as string;
        }
        catch (SqliteException ex)
        {
            throw new StateException($"cannot read state database {full}: {ex.Message}", ex);
        }
    }

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

    /// <summary>Runs <paramref name="work"/> in one transaction: all of it lands, or none.</summary>
    public void InTransaction(Action work)
    {
        WaitUntilOpen();
        lock (Gate)
        {
            if (_transaction is not null)
            {
                work();
                return;
            }
            _transaction = _connection.BeginTransaction();
            try
            {
                work();
                _transaction.Commit();
            }
            catch
            {
                _transaction.Rollback();
                throw;
            }
            finally
            {
                _transaction.Dispose();
                _transaction = null;
            }
        }
    }

    internal SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        WaitUntilOpen();
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = _transaction;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    internal int Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        lock (Gate)
        {
            using var command = Command(sql, parameters);
            return command.ExecuteNonQuery();
        }
    }

    internal List<T> Query<T>(string sql, Func<SqliteDataReader, T> read, params (string Name, object? Value)[] parameters)
    {
        lock (Gate)
        {
            using var command = Command(sql, parameters);
            using var reader = command.ExecuteReader();
            var rows = new List<T>();
            while (reader.Read()) rows.Add(read(reader));
            return rows;
        }
    }

    internal string Now() => Iso(Time.GetUtcNow());

    internal static string Iso(DateTimeOffset value) => value.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture);

    internal static DateTimeOffset? ReadTime(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTimeOffset.Parse(reader.GetString(ordinal), System.Globalization.CultureInfo.InvariantCulture);

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

    public void Dispose()
    {
        // The check must not be cut off mid-statement by closing its connection; a failed one was already reported.
        try
        {
            _opening.Wait();
        }
        catch (AggregateException)
        {
        }
        lock (Gate) _connection.Dispose();
    }
}

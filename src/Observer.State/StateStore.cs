using System.Data.Common;
using System.Text.RegularExpressions;
using Observer.State.Databases;

namespace Observer.State;

/// <summary>
/// The state database: UID maps, checkpoints, the journal of replica writes and folders in trouble. SQLite on this box
/// by default, or PostgreSQL shared by several workers. One connection, used under a lock.
/// </summary>
public sealed class StateStore : IDisposable
{
    private readonly StateDatabase _database;
    private DbTransaction? _transaction;

    /// <summary>The integrity check and migration begun at open; every statement waits for it.</summary>
    private readonly Task _opening;

    private StateStore(StateDatabase database, TimeProvider time, Task? opening = null)
    {
        _database = database;
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
        Leases = new LeaseRepository(this);
    }

    internal Lock Gate { get; } = new();

    internal TimeProvider Time { get; }

    internal StateDatabase Database => _database;

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

    /// <summary>Workers and their leases on accounts; only a shared (PostgreSQL) state has them.</summary>
    public LeaseRepository Leases { get; }

    /// <summary>Whether several workers share this state, each writing only for the accounts it holds a lease on.</summary>
    public bool Shared => _database.Shared;

    /// <summary>
    /// The fence of the accounts this process holds leases on, when the state is shared: the journal is written only
    /// under an account's current token. Null on SQLite, where the instance lock makes this process the only writer.
    /// </summary>
    public ILeaseFence? Fence { get; set; }

    public string Describe => _database.Describe;

    public static StateStore Open(string path, TimeProvider? time = null) => Open(StateLocation.File(path), time);

    public static StateStore Open(StateLocation location, TimeProvider? time = null)
    {
        StateDatabase database = location.Shared
            ? PostgreSqlStateDatabase.Open(location.ConnectionString!)
            : SqliteStateDatabase.Open(Path.GetFullPath(location.Path));
        // The check reads every page (a fifth of a one-shot sync's start on a state of 5,000 messages), so
        // it runs beside what follows, such as logging in to both servers. Nothing reads or writes the
        // state before it has passed, and a database that fails it is neither migrated nor used.
        return new StateStore(database, time ?? TimeProvider.System, Task.Run(database.CheckAndMigrate));
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

    public static StateStore OpenReadOnly(string path, TimeProvider? time = null) => OpenReadOnly(StateLocation.File(path), time);

    /// <summary>
    /// Opens an existing state for reading only (`observer status`): it creates, migrates and changes nothing, so a
    /// mistyped State:Path does not leave an empty database behind.
    /// </summary>
    public static StateStore OpenReadOnly(StateLocation location, TimeProvider? time = null)
    {
        StateDatabase database = location.Shared
            ? PostgreSqlStateDatabase.Open(location.ConnectionString!)
            : SqliteStateDatabase.OpenReadOnly(Path.GetFullPath(location.Path));
        try
        {
            database.EnsureCurrent();
            return new StateStore(database, time ?? TimeProvider.System);
        }
        catch
        {
            database.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The server `observer promote` made the primary, read when the settings are: null when there is no state database
    /// yet, or it predates failover, or the settings' own primary is the primary. Reads only; creates and migrates nothing.
    /// </summary>
    public static string? ReadPromotedPrimary(StateLocation location)
    {
        if (!location.Shared) return SqliteStateDatabase.ReadPromotedPrimary(Path.GetFullPath(location.Path));
        using var database = PostgreSqlStateDatabase.Open(location.ConnectionString!);
        return database.ReadPromotedPrimary();
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
            try
            {
                _transaction = _database.Connection.BeginTransaction();
                try
                {
                    work();
                    _transaction.Commit();
                }
                catch
                {
                    TryRollback(_transaction);
                    throw;
                }
                finally
                {
                    _transaction.Dispose();
                    _transaction = null;
                }
            }
            catch (Exception ex) when (_database.Translate(ex) is { } translated)
            {
                throw translated;
            }
        }
    }

    /// <summary>A rollback on a connection already lost fails too; the transaction is gone either way.</summary>
    private void TryRollback(DbTransaction transaction)
    {
        try
        {
            transaction.Rollback();
        }
        catch (Exception ex) when (_database.Translate(ex) is not null)
        {
        }
    }

    internal DbCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        WaitUntilOpen();
        var command = (_transaction?.Connection ?? _database.Connection).CreateCommand();
        command.CommandText = sql;
        command.Transaction = _transaction;
        foreach (var (name, value) in parameters) Add(command, name, value);
        return command;
    }

    internal static void Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    internal int Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        lock (Gate)
        {
            try
            {
                using var command = Command(sql, parameters);
                return command.ExecuteNonQuery();
            }
            catch (Exception ex) when (_transaction is null && _database.Translate(ex) is { } translated)
            {
                throw translated;
            }
        }
    }

    internal List<T> Query<T>(string sql, Func<DbDataReader, T> read, params (string Name, object? Value)[] parameters)
    {
        lock (Gate)
        {
            try
            {
                using var command = Command(sql, parameters);
                using var reader = command.ExecuteReader();
                var rows = new List<T>();
                while (reader.Read()) rows.Add(read(reader));
                return rows;
            }
            catch (Exception ex) when (_transaction is null && _database.Translate(ex) is { } translated)
            {
                throw translated;
            }
        }
    }

    /// <summary>
    /// Replaces rows by key, cascading to the rows that hang off the old one (SQLite's INSERT OR REPLACE), in the caller's
    /// transaction: set the parameters, then <see cref="Statements.Execute"/> for each row.
    /// </summary>
    internal Statements Replace(string table, string keyCondition, string insert, params (string Name, object? Value)[] parameters) =>
        new([.. _database.Replace(table, keyCondition, insert).Select(sql => Command(sql, [.. parameters.Where(p => Regex.IsMatch(sql, Regex.Escape(p.Name) + @"\b"))]))]);

    /// <summary>
    /// Statements run one after the other, each a command of its own. Never one command of several statements: Npgsql
    /// sends the statements after a command's first asynchronously, and while this store's lock is held and the account
    /// engines' thread-pool threads all wait for it, the send waits for a free thread that never comes (the worker stalls).
    /// </summary>
    internal sealed class Statements(IReadOnlyList<DbCommand> commands) : IDisposable
    {
        /// <summary>Sets a parameter in every statement that has it.</summary>
        public object? this[string name]
        {
            set
            {
                foreach (var command in commands.Where(c => c.Parameters.Contains(name))) command.Parameters[name].Value = value ?? DBNull.Value;
            }
        }

        public void Execute()
        {
            foreach (var command in commands) command.ExecuteNonQuery();
        }

        public void Dispose()
        {
            foreach (var command in commands) command.Dispose();
        }
    }

    internal string Now() => Iso(Time.GetUtcNow());

    internal static string Iso(DateTimeOffset value) => value.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture);

    internal static DateTimeOffset? ReadTime(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTimeOffset.Parse(reader.GetString(ordinal), System.Globalization.CultureInfo.InvariantCulture);

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
        lock (Gate) _database.Dispose();
    }
}

using System.Data;
using System.Data.Common;
using System.Net.Sockets;
using Npgsql;

namespace Observer.State.Databases;

/// <summary>
/// State shared by several workers on PostgreSQL. One connection per process, as with SQLite, under the store's lock;
/// a connection lost (the server restarted, the network cut) is opened again before the next statement outside a
/// transaction, and the statement that met the loss fails as <see cref="StateUnavailableException"/>, which is retried.
/// </summary>
internal sealed class PostgreSqlStateDatabase : StateDatabase
{
    private readonly NpgsqlDataSource _source;
    private readonly string _describe;
    private readonly string _connectionString;
    private NpgsqlConnection? _connection;

    private PostgreSqlStateDatabase(string connectionString)
    {
        var settings = Settings(connectionString);
        _describe = Name(connectionString);
        _connectionString = settings.ConnectionString;
        _source = new NpgsqlSlimDataSourceBuilder(settings.ConnectionString).EnableArrays().EnableTransportSecurity().Build();
    }

    private static bool Names(string connectionString, params string[] keys)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        return keys.Any(given.ContainsKey);
    }

    private static bool IsLocal(string? hosts) =>
        (hosts ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .All(h => h.StartsWith('/') || h is "localhost" || (System.Net.IPAddress.TryParse(h, out var ip) && System.Net.IPAddress.IsLoopback(ip)));

    /// <summary>The connection settings Observer uses: the admin's, with the password kept out of reach and TLS verified off this box.</summary>
    internal static NpgsqlConnectionStringBuilder Settings(string connectionString)
    {
        NpgsqlConnectionStringBuilder settings;
        try
        {
            settings = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new StateException($"State:ConnectionString is not a valid PostgreSQL connection string ({ex.Message}); write it as Host=...;Port=5432;Username=...;Database=...");
        }
        // Npgsql would otherwise keep the password readable from the connection's settings, where an exception's text may show it.
        settings.PersistSecurityInfo = false;
        // As with the mail servers, a certificate is verified unless the settings say otherwise: Npgsql's own default
        // (Prefer) would send the password over TLS to whoever answers. Loopback and a Unix socket need no TLS.
        if (!Names(connectionString, "sslmode", "ssl mode") && !IsLocal(settings.Host)) settings.SslMode = SslMode.VerifyFull;
        if (string.IsNullOrEmpty(settings.ApplicationName)) settings.ApplicationName = "observer";
        return settings;
    }

    public static PostgreSqlStateDatabase Open(string connectionString)
    {
        var database = new PostgreSqlStateDatabase(connectionString);
        _ = database.Connection;
        return database;
    }

    public static string? Problem(string connectionString)
    {
        try
        {
            var s = new NpgsqlConnectionStringBuilder(connectionString);
            if (string.IsNullOrWhiteSpace(s.Host)) return "names no Host; write it as Host=...;Port=5432;Username=...;Database=...";
            if (string.IsNullOrWhiteSpace(s.Username)) return "names no Username; write it as Host=...;Port=5432;Username=...;Database=...";
            return null;
        }
        catch (ArgumentException ex)
        {
            return $"is not a valid PostgreSQL connection string ({ex.Message}); write it as Host=...;Port=5432;Username=...;Database=...";
        }
    }

    public static string WithPassword(string connectionString, string? password)
    {
        if (string.IsNullOrEmpty(password)) return connectionString;
        try
        {
            return new NpgsqlConnectionStringBuilder(connectionString) { Password = password }.ConnectionString;
        }
        catch (ArgumentException)
        {
            // The settings' check reports the connection string itself.
            return connectionString;
        }
    }

    /// <summary>The database, server and user, without the password.</summary>
    public static string Name(string connectionString)
    {
        try
        {
            var s = new NpgsqlConnectionStringBuilder(connectionString);
            return $"PostgreSQL database {s.Database ?? s.Username} on {s.Host}:{s.Port} as {s.Username}";
        }
        catch (ArgumentException)
        {
            return "PostgreSQL database (State:ConnectionString)";
        }
    }

    public override bool Shared => true;

    public override string Describe => _describe;

    public override DbConnection Connection
    {
        get
        {
            if (_connection is { State: ConnectionState.Open }) return _connection;
            _connection?.Dispose();
            _connection = null;
            try
            {
                _connection = _source.OpenConnection();
                return _connection;
            }
            catch (Exception ex) when (ex is NpgsqlException or SocketException or TimeoutException or IOException or System.Security.Authentication.AuthenticationException)
            {
                throw Translate(ex) ?? Unreachable(ex);
            }
        }
    }

    /// <summary>
    /// A connection apart from any store's, unpooled, for a lock or LISTEN that must outlive statements; the caller disposes it.
    /// Its errors are the store's: a refused login is a <see cref="StateException"/>, the rest <see cref="StateUnavailableException"/>.
    /// </summary>
    public static NpgsqlConnection OpenOwnConnection(string connectionString)
    {
        var database = new PostgreSqlStateDatabase(connectionString);
        try
        {
            var settings = new NpgsqlConnectionStringBuilder(database._connectionString) { Pooling = false };
            var connection = new NpgsqlConnection(settings.ConnectionString);
            try
            {
                connection.Open();
                return connection;
            }
            catch (Exception ex) when (ex is NpgsqlException or SocketException or TimeoutException or IOException or System.Security.Authentication.AuthenticationException)
            {
                connection.Dispose();
                throw database.Translate(ex) ?? database.Unreachable(ex);
            }
        }
        finally
        {
            database.Dispose();
        }
    }

    public override void CheckAndMigrate()
    {
        try
        {
            PostgreSqlSchema.Migrate((NpgsqlConnection)Connection, _describe);
        }
        catch (Exception ex) when (Translate(ex) is { } translated)
        {
            throw translated;
        }
    }

    public override void EnsureCurrent()
    {
        try
        {
            PostgreSqlSchema.EnsureCurrent((NpgsqlConnection)Connection, _describe);
        }
        catch (Exception ex) when (Translate(ex) is { } translated)
        {
            throw translated;
        }
    }

    public string? ReadPromotedPrimary()
    {
        try
        {
            return PostgreSqlSchema.ReadPromotedPrimary((NpgsqlConnection)Connection);
        }
        catch (Exception ex) when (Translate(ex) is { } translated)
        {
            throw translated;
        }
    }

    public override Exception? Translate(Exception error) => error switch
    {
        StateException or StateUnavailableException => null,
        // A certificate refused is the settings' fault, or an attack: no retry helps.
        _ when Refused(error) is { } tls => new StateException($"cannot open the state database, {_describe}: its TLS certificate was refused ({tls.Message.ReplaceLineEndings(" ")}); "
            + "give State:ConnectionString a Root Certificate=FILE that signed it, or check Host against its name"),
        // A refused login or a missing database is the settings' fault: no retry helps.
        PostgresException { SqlState: "28P01" or "28000" or "3D000" } pg => new StateException($"cannot open the state database, {_describe}: {pg.MessageText}; check State:ConnectionString and its password"),
        NpgsqlException { IsTransient: true } or SocketException or TimeoutException => Unreachable(error),
        // A connection broken mid-statement (the server shut down) leaves it closed; whatever the error said, it is the connection's.
        NpgsqlException or InvalidOperationException when _connection is not { State: ConnectionState.Open } => Unreachable(error),
        _ => null,
    };

    private static System.Security.Authentication.AuthenticationException? Refused(Exception? error)
    {
        for (; error is not null; error = error.InnerException)
            if (error is System.Security.Authentication.AuthenticationException refused) return refused;
        return null;
    }

    private StateUnavailableException Unreachable(Exception ex) =>
        new($"the state database, {_describe}, cannot be reached: {(ex is PostgresException pg ? pg.MessageText : ex.Message).ReplaceLineEndings(" ")}", ex);

    public override string[] Replace(string table, string keyCondition, string insert) => [$"DELETE FROM {table} WHERE {keyCondition}", $"INSERT INTO {table} {insert}"];

    public override void Dispose()
    {
        _connection?.Dispose();
        _source.Dispose();
    }
}

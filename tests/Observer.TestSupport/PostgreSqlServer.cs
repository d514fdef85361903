using Npgsql;

namespace Observer.TestSupport;

/// <summary>
/// A private PostgreSQL from testservers/postgresql on a free loopback port, for the shared state. Each test takes a
/// database of its own (<see cref="CreateDatabaseAsync"/>), so tests never see each other's leases or maps.
/// </summary>
public sealed class PostgreSqlServer : IAsyncDisposable
{
    private const string User = "observer";
    private const string Password = "observer-test-password";
    private static int _databases;

    private PostgreSqlServer(string name, int port, string directory) => (Name, Port, Directory) = (name, port, directory);

    public string Name { get; }
    public int Port { get; private set; }
    public string Directory { get; }

    private static string Script(string name) => Path.Combine(RepoPaths.TestServers, "postgresql", name);

    public static async Task<PostgreSqlServer> StartAsync(string name)
    {
        var unique = $"{name}-{Environment.ProcessId}";
        var port = FreePort.Next();
        var output = await ScriptRunner.RunAsync(Script("start.sh"),
            [unique, "--port", port.ToString(), "--user", $"{User}:{Password}", "--database", User, "--fresh"], TimeSpan.FromMinutes(5));
        var values = output.Split('\n').Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1].Trim());
        var server = new PostgreSqlServer(unique, port, values["DIR"]);
        // Each test makes a database of its own.
        await using var connection = new NpgsqlConnection(server.ConnectionString("postgres") + ";Username=postgres;Host=" + Path.Combine(server.Directory, "run"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"ALTER ROLE {User} CREATEDB", connection);
        await command.ExecuteNonQueryAsync();
        return server;
    }

    /// <summary>The connection string without its password, as an admin writes it in the settings.</summary>
    public string ConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Username={User};Database={database}";

    public string PasswordValue => Password;

    /// <summary>A fresh, empty database, owned by the test user; returns its name.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "observer")
    {
        var name = $"{prefix}_{Environment.ProcessId}_{Interlocked.Increment(ref _databases)}".ToLowerInvariant();
        await using var connection = new NpgsqlConnection(ConnectionString(User) + $";Password={Password}");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return name;
    }

    /// <summary>Runs one statement in <paramref name="database"/> as the test user, returning the first column of the first row.</summary>
    public async Task<object?> ScalarAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database) + $";Password={Password};Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    /// <summary>Runs one query in <paramref name="database"/> as the test user, returning every row's columns (DBNull as null).</summary>
    public async Task<List<object?[]>> RowsAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database) + $";Password={Password};Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>Stops and starts the server again on the same port, keeping its data: every client's connection is cut.</summary>
    public async Task RestartAsync(TimeSpan? down = null)
    {
        await ScriptRunner.RunAsync(Script("stop.sh"), [Name], TimeSpan.FromMinutes(1));
        if (down is { } wait) await Task.Delay(wait);
        await ScriptRunner.RunAsync(Script("start.sh"), [Name, "--port", Port.ToString(), "--user", $"{User}:{Password}", "--database", User], TimeSpan.FromMinutes(2));
        // The pool's connections died with the server.
        NpgsqlConnection.ClearAllPools();
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await ScriptRunner.RunAsync(Script("stop.sh"), [Name, "--wipe"], TimeSpan.FromMinutes(1));
    }
}

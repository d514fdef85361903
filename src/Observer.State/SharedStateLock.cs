using Npgsql;
using Observer.State.Databases;

namespace Observer.State;

/// <summary>
/// On a shared state, what the lock file is on SQLite: workers (`observer run`) hold a shared advisory lock, as many as
/// there are; a one-shot command that writes (sync, promote, forget) needs it exclusively, so it never runs beside a
/// worker that holds leases. Held on a connection of its own for the life of the process; PostgreSQL frees it when that
/// connection ends, however the process ends.
/// </summary>
public sealed class SharedStateLock : IDisposable
{
    private const long Key = 0x0b5e_7e12_0002;

    private readonly NpgsqlConnection _connection;

    private SharedStateLock(NpgsqlConnection connection) => _connection = connection;

    /// <summary>The lock, or null while another holds it in a way that excludes this one.</summary>
    public static SharedStateLock? TryTake(StateLocation location, bool exclusive)
    {
        var connection = PostgreSqlStateDatabase.OpenOwnConnection(location.ConnectionString!);
        try
        {
            using var command = new NpgsqlCommand(exclusive ? $"SELECT pg_try_advisory_lock({Key})" : $"SELECT pg_try_advisory_lock_shared({Key})", connection);
            // A worker's lock dies with its connection (the database restarted) while the worker goes on: its renewals say it runs.
            command.CommandText += exclusive ? " AND (to_regclass('workers') IS NULL OR NOT EXISTS (SELECT 1 FROM workers WHERE expires_at > now()))" : "";
            if ((bool)command.ExecuteScalar()!) return new SharedStateLock(connection);
        }
        catch (NpgsqlException ex)
        {
            connection.Dispose();
            throw new StateUnavailableException($"the state database, {location.Describe}, cannot be reached: {ex.Message}", ex);
        }
        connection.Dispose();
        return null;
    }

    public void Dispose() => _connection.Dispose();
}

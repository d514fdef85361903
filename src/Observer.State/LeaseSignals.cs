using Npgsql;
using Observer.State.Databases;

namespace Observer.State;

/// <summary>
/// Wakes a worker when another offers, releases or joins (LISTEN on <see cref="LeaseRepository.Channel"/>), so accounts
/// change hands in well under a second rather than at the next renewal. Its own connection, opened again when lost;
/// meanwhile the worker simply waits out its renewal interval.
/// </summary>
public sealed class LeaseSignals(StateLocation location) : IDisposable
{
    private NpgsqlConnection? _connection;

    /// <summary>Returns when a signal came or <paramref name="timeout"/> passed, whichever is first; never throws for a lost connection.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            if (_connection is not { State: System.Data.ConnectionState.Open })
            {
                _connection?.Dispose();
                _connection = null;
                var connection = PostgreSqlStateDatabase.OpenOwnConnection(location.ConnectionString!);
                await using (var listen = new NpgsqlCommand("LISTEN " + LeaseRepository.Channel, connection))
                    await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                _connection = connection;
            }
            await _connection.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or StateUnavailableException or StateException or IOException or TimeoutException)
        {
            _connection?.Dispose();
            _connection = null;
            await Task.Delay(timeout, time, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => _connection?.Dispose();
}

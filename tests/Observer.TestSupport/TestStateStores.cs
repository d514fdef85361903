using Observer.State;

namespace Observer.TestSupport;

/// <summary>
/// The state store an in-process test runs on: SQLite in its folder, or, with OBSERVER_TEST_STATE=postgresql, a fresh
/// database on a private PostgreSQL started once for the test process, so that the same tests prove the shared state.
/// </summary>
public static class TestStateStores
{
    private static readonly Lazy<Task<PostgreSqlServer>> Server = new(() => PostgreSqlServer.StartAsync("state"));

    static TestStateStores()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            if (Server.IsValueCreated && Server.Value.IsCompletedSuccessfully) Server.Value.Result.DisposeAsync().AsTask().GetAwaiter().GetResult();
        };
    }

    public static bool OnPostgreSql => string.Equals(Environment.GetEnvironmentVariable("OBSERVER_TEST_STATE"), "postgresql", StringComparison.OrdinalIgnoreCase);

    public static async Task<StateStore> OpenAsync(string directory, TimeProvider? time = null)
    {
        if (!OnPostgreSql) return StateStore.Open(Path.Combine(directory, "state.db"), time);
        var server = await SharedServerAsync();
        var database = await server.CreateDatabaseAsync("engine");
        return StateStore.Open(new StateLocation(StateProvider.PostgreSql, "", server.ConnectionString(database) + $";Password={server.PasswordValue}"), time);
    }

    /// <summary>The PostgreSQL every test of this process shares (each with databases of its own).</summary>
    public static Task<PostgreSqlServer> SharedServerAsync() => Server.Value;
}

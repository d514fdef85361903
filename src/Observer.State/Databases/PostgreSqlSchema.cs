using System.Reflection;
using Npgsql;

namespace Observer.State.Databases;

/// <summary>
/// The schema on PostgreSQL: the first file of PostgreSqlMigrations/ creates it whole at its version, later files follow
/// SQLite's migrations one for one, so both databases always carry the same schema version. Workers starting together
/// migrate one at a time, under an advisory lock held for the migration's transaction.
/// </summary>
internal static class PostgreSqlSchema
{
    /// <summary>Any number will do, as long as no other program on the same database takes the same advisory lock.</summary>
    private const long MigrationLock = 0x0b5e_7e12_0001;

    public static int LatestVersion => Migrations().Max(m => m.Version);

    public static void Migrate(NpgsqlConnection connection, string describe)
    {
        using var transaction = connection.BeginTransaction();
        Execute(connection, transaction, $"SELECT pg_advisory_xact_lock({MigrationLock})");
        Execute(connection, transaction, "CREATE TABLE IF NOT EXISTS observer_schema (version INTEGER NOT NULL)");
        var current = CurrentVersion(connection, transaction);
        var latest = LatestVersion;
        if (current > latest)
            throw new StateException($"the state database, {describe}, has schema {current}, newer than this observer understands ({latest}); upgrade observer");
        foreach (var (version, sql) in Migrations().Where(m => m.Version > current).OrderBy(m => m.Version))
        {
            Execute(connection, transaction, sql);
            Execute(connection, transaction, $"DELETE FROM observer_schema; INSERT INTO observer_schema (version) VALUES ({version})");
        }
        transaction.Commit();
    }

    public static void EnsureCurrent(NpgsqlConnection connection, string describe)
    {
        using var command = new NpgsqlCommand("SELECT to_regclass('observer_schema') IS NOT NULL", connection);
        var current = (bool)command.ExecuteScalar()! ? CurrentVersion(connection, null) : 0;
        if (current < LatestVersion)
            throw new StateException($"the state database, {describe}, was written by an older observer or by none yet; run observer sync or observer run once to set it up");
        if (current > LatestVersion)
            throw new StateException($"the state database, {describe}, has schema {current}, newer than this observer understands ({LatestVersion}); upgrade observer");
    }

    /// <summary>The primary `observer promote` made, or null; reads only, and a database not set up yet has none.</summary>
    public static string? ReadPromotedPrimary(NpgsqlConnection connection)
    {
        using var command = new NpgsqlCommand("SELECT to_regclass('roles') IS NOT NULL", connection);
        if (!(bool)command.ExecuteScalar()!) return null;
        command.CommandText = "SELECT primary_name FROM roles WHERE id = 1";
        return command.ExecuteScalar() as string;
    }

    private static int CurrentVersion(NpgsqlConnection connection, NpgsqlTransaction? transaction)
    {
        using var command = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM observer_schema", connection, transaction);
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void Execute(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection, transaction);
        command.ExecuteNonQuery();
    }

    internal static IEnumerable<(int Version, string Sql)> Migrations()
    {
        var assembly = Assembly.GetExecutingAssembly();
        const string prefix = "PostgreSqlMigrations.";
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var file = name[prefix.Length..];
            var version = int.Parse(file[..file.IndexOf('_')], System.Globalization.CultureInfo.InvariantCulture);
            using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
            yield return (version, reader.ReadToEnd());
        }
    }
}

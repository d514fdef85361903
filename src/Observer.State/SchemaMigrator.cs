using System.Reflection;
using Microsoft.Data.Sqlite;

namespace Observer.State;

/// <summary>Applies the embedded Migrations/NNNN_*.sql files in order, tracked by PRAGMA user_version.</summary>
internal static class SchemaMigrator
{
    public static int LatestVersion => Migrations().Max(m => m.Version);

    public static void Migrate(SqliteConnection connection)
    {
        var current = Convert.ToInt32(Scalar(connection, "PRAGMA user_version"), System.Globalization.CultureInfo.InvariantCulture);
        var latest = LatestVersion;
        if (current > latest)
            throw new StateException($"the state database has schema {current}, newer than this observer understands ({latest}); upgrade observer");
        foreach (var (version, sql) in Migrations().Where(m => m.Version > current).OrderBy(m => m.Version))
        {
            using var transaction = connection.BeginTransaction();
            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = sql + $"\nPRAGMA user_version = {version};";
                command.ExecuteNonQuery();
            }
            transaction.Commit();
        }
    }

    /// <summary>For a reader that may not migrate: the schema must be the one this observer writes.</summary>
    public static void EnsureCurrent(SqliteConnection connection, string path)
    {
        var current = Convert.ToInt32(Scalar(connection, "PRAGMA user_version"), System.Globalization.CultureInfo.InvariantCulture);
        if (current < LatestVersion)
            throw new StateException($"the state database {path} was written by an older observer; run observer sync or observer run once to upgrade it");
        if (current > LatestVersion)
            throw new StateException($"the state database {path} has schema {current}, newer than this observer understands ({LatestVersion}); upgrade observer");
    }

    private static IEnumerable<(int Version, string Sql)> Migrations()
    {
        var assembly = Assembly.GetExecutingAssembly();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("Migrations.", StringComparison.Ordinal)))
        {
            var file = name["Migrations.".Length..];
            var version = int.Parse(file[..file.IndexOf('_')], System.Globalization.CultureInfo.InvariantCulture);
            using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
            yield return (version, reader.ReadToEnd());
        }
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}

using Microsoft.Data.Sqlite;
using System.Reflection;
using System.Data.Common;

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
        var pending = Migrations().Where(m => m.Version > current).OrderBy(m => m.Version).ToList();
        if (pending.Count == 0) return;
        // A migration may rebuild a table others refer to (SQLite's way to change a constraint): with foreign
        // keys enforced, dropping the old table would cascade into every row that refers to it. The keys are
        // checked instead before each commit, so a migration that broke one is rolled back.
        Execute(connection, "PRAGMA foreign_keys = OFF");
        try
        {
            foreach (var (version, sql) in pending)
            {
                using var transaction = connection.BeginTransaction();
                using (var command = connection.CreateCommand())
                {
                    command.Transaction = transaction;
                    command.CommandText = sql + $"\nPRAGMA user_version = {version};";
                    command.ExecuteNonQuery();
                    command.CommandText = "PRAGMA foreign_key_check";
                    using var broken = command.ExecuteReader();
                    if (broken.Read())
                        throw new StateException($"migrating the state database to schema {version} left a row in {broken.GetString(0)} without its parent; nothing was changed, report this as a bug");
                }
                transaction.Commit();
            }
        }
        finally
        {
            Execute(connection, "PRAGMA foreign_keys = ON");
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
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

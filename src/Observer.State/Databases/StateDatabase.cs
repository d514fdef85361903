using System.Data.Common;

namespace Observer.State.Databases;

/// <summary>
/// What differs between the databases the state can live in: how the connection is made and kept, how the schema
/// is brought up to date, and which of their errors mean "try again later". Statements are written once, in the SQL
/// both understand, with @name parameters.
/// </summary>
internal abstract class StateDatabase : IDisposable
{
    /// <summary>The connection statements run on, opened again first if the last one was lost (only between transactions).</summary>
    public abstract DbConnection Connection { get; }

    /// <summary>Checks and migrates the schema; runs beside other start-up work, and nothing touches the state before it passes.</summary>
    public abstract void CheckAndMigrate();

    /// <summary>For a reader that may not migrate: the schema must be the one this observer writes.</summary>
    public abstract void EnsureCurrent();

    /// <summary>The error to throw instead of a database's own, or null to let it through as a bug.</summary>
    public abstract Exception? Translate(Exception error);

    /// <summary>Whether several processes share this database (and take leases on accounts).</summary>
    public abstract bool Shared { get; }

    public abstract string Describe { get; }

    /// <summary>
    /// The statements that replace a row by key, as SQLite's INSERT OR REPLACE does (delete, cascading to what hangs off
    /// it, then insert), each to be run as a command of its own.
    /// </summary>
    public abstract string[] Replace(string table, string keyCondition, string insert);

    public abstract void Dispose();
}

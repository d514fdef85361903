using System.Data.Common;

namespace Observer.State;

internal static class Columns
{
    public static uint? UInt(this DbDataReader r, int i) => r.IsDBNull(i) ? null : (uint)r.GetInt64(i);

    // SQLite integers are signed 64-bit; mod-sequences are at most 2^63-1 (RFC 7162), so the cast is exact.
    public static ulong? ULong(this DbDataReader r, int i) => r.IsDBNull(i) ? null : (ulong)r.GetInt64(i);

    // PostgreSQL's integers are all BIGINT here (a count is too), and Npgsql reads a BIGINT only as a long.
    public static int Int(this DbDataReader r, int i) => checked((int)r.GetInt64(i));

    public static string? Text(this DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    public static object? Db(uint? value) => value is null ? null : (long)value.Value;

    public static object? Db(ulong? value) => value is null ? null : (long)value.Value;
}

using System.Globalization;

namespace Observer.Imap;

/// <summary>The IMAP date-time form, "17-Jul-1996 02:44:25 -0700", used by INTERNALDATE and APPEND.</summary>
public static class ImapDate
{
    private static readonly string[] Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    public static string Format(DateTimeOffset value)
    {
        var offset = value.Offset;
        var sign = offset < TimeSpan.Zero ? '-' : '+';
        var abs = offset.Duration();
        return string.Create(CultureInfo.InvariantCulture,
            $"{value.Day:00}-{Months[value.Month - 1]}-{value.Year:0000} {value.Hour:00}:{value.Minute:00}:{value.Second:00} {sign}{abs.Hours:00}{abs.Minutes:00}");
    }

    public static bool TryParse(string text, out DateTimeOffset value)
    {
        value = default;
        var s = text.Trim();
        // day is "1*2DIGIT" or space-padded; the rest is fixed width.
        var dash = s.IndexOf('-');
        if (dash is < 1 or > 2) return false;
        if (!int.TryParse(s.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var day)) return false;
        var rest = s[(dash + 1)..];
        if (rest.Length != 3 + 1 + 4 + 1 + 8 + 1 + 5) return false;
        var month = Array.FindIndex(Months, m => string.Equals(m, rest[..3], StringComparison.OrdinalIgnoreCase)) + 1;
        if (month == 0 || rest[3] != '-' || rest[8] != ' ' || rest[17] != ' ') return false;
        if (!int.TryParse(rest.AsSpan(4, 4), NumberStyles.None, CultureInfo.InvariantCulture, out var year)) return false;
        if (!TimeOnly.TryParseExact(rest.AsSpan(9, 8), "HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)) return false;
        var zone = rest.AsSpan(18, 5);
        if (zone[0] is not ('+' or '-')) return false;
        if (!int.TryParse(zone[1..3], NumberStyles.None, CultureInfo.InvariantCulture, out var zh)
            || !int.TryParse(zone[3..5], NumberStyles.None, CultureInfo.InvariantCulture, out var zm)) return false;
        var offset = new TimeSpan(zh, zm, 0);
        if (zone[0] == '-') offset = -offset;
        if (offset.Duration() > TimeSpan.FromHours(14)) return false;
        try
        {
            value = new DateTimeOffset(year, month, day, time.Hour, time.Minute, time.Second, offset);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }
}

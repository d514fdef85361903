using System.Text;

namespace Observer.Mail;

/// <summary>
/// An IMAP sequence set of UIDs or sequence numbers, as ranges in the order given. Order matters:
/// COPYUID pairs its source and destination sets element by element.
/// </summary>
public sealed class UidSet : IEquatable<UidSet>
{
    /// <summary>Stands for "*" (the largest number in use) in a range.</summary>
    public const uint Star = uint.MaxValue;

    private readonly (uint Start, uint End)[] _ranges;

    private UidSet((uint, uint)[] ranges) => _ranges = ranges;

    public static UidSet Empty { get; } = new([]);

    /// <summary>1:*</summary>
    public static UidSet All { get; } = new([(1, Star)]);

    public IReadOnlyList<(uint Start, uint End)> Ranges => _ranges;

    public bool IsEmpty => _ranges.Length == 0;

    public static UidSet Single(uint uid) => new([(uid, uid)]);

    public static UidSet Range(uint start, uint end) => new([(start, end)]);

    /// <summary>Builds a compact set from any UIDs; duplicates are dropped and ranges merged.</summary>
    public static UidSet FromUids(IEnumerable<uint> uids)
    {
        var sorted = uids.Distinct().Order().ToArray();
        var ranges = new List<(uint, uint)>();
        for (var i = 0; i < sorted.Length;)
        {
            var start = sorted[i];
            var end = start;
            while (++i < sorted.Length && sorted[i] == end + 1) end = sorted[i];
            ranges.Add((start, end));
        }
        return new UidSet(ranges.ToArray());
    }

    public static UidSet Parse(string text) =>
        TryParse(text, out var set) ? set : throw new FormatException($"not a sequence set: '{text}'");

    public static bool TryParse(ReadOnlySpan<char> text, out UidSet set)
    {
        set = Empty;
        if (text.IsEmpty) return false;
        var ranges = new List<(uint, uint)>();
        foreach (var part in text.ToString().Split(','))
        {
            var colon = part.IndexOf(':');
            if (colon < 0)
            {
                if (!TryParseNumber(part, out var n)) return false;
                ranges.Add((n, n));
            }
            else
            {
                if (!TryParseNumber(part[..colon], out var a) || !TryParseNumber(part[(colon + 1)..], out var b)) return false;
                // RFC 3501: "2:4" and "4:2" are the same range.
                ranges.Add(a <= b ? (a, b) : (b, a));
            }
        }
        set = new UidSet(ranges.ToArray());
        return true;
    }

    private static bool TryParseNumber(string s, out uint n)
    {
        if (s == "*")
        {
            n = Star;
            return true;
        }
        return uint.TryParse(s, System.Globalization.NumberStyles.None, null, out n) && n != 0;
    }

    /// <summary>The numbers in the order the set lists them. A range ending in * cannot be expanded.</summary>
    public IEnumerable<uint> Expand()
    {
        foreach (var (start, end) in _ranges)
        {
            if (end == Star && start != Star) throw new InvalidOperationException("cannot expand a range ending in *");
            for (var n = start; ; n++)
            {
                yield return n;
                if (n == end) break;
            }
        }
    }

    public long Count => _ranges.Sum(r => (long)r.End - r.Start + 1);

    public bool Contains(uint n) => _ranges.Any(r => n >= r.Start && n <= r.End);

    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var (start, end) in _ranges)
        {
            if (sb.Length > 0) sb.Append(',');
            sb.Append(Format(start));
            if (end != start) sb.Append(':').Append(Format(end));
        }
        return sb.ToString();
    }

    private static string Format(uint n) => n == Star ? "*" : n.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Splits into sets of at most <paramref name="maxCount"/> numbers, to keep command lines bounded.</summary>
    public IEnumerable<UidSet> Chunk(int maxCount) => Expand().Chunk(maxCount).Select(FromUids);

    public bool Equals(UidSet? other) => other is not null && _ranges.SequenceEqual(other._ranges);

    public override bool Equals(object? obj) => Equals(obj as UidSet);

    public override int GetHashCode() => _ranges.Length == 0 ? 0 : HashCode.Combine(_ranges.Length, _ranges[0]);
}

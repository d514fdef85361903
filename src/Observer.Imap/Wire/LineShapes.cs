namespace Observer.Imap;

/// <summary>Byte-level checks on a raw response line, made before it is parsed.</summary>
internal static class LineShapes
{
    /// <summary>
    /// True for "+ ..." and for "tag|* OK|NO|BAD|BYE|PREAUTH ...", whose text cannot carry literals.
    /// </summary>
    public static bool IsConditionOrContinuation(ReadOnlySpan<byte> line)
    {
        if (line.Length > 0 && line[0] == (byte)'+') return true;
        var firstSpace = line.IndexOf((byte)' ');
        if (firstSpace <= 0) return false;
        var rest = line[(firstSpace + 1)..];
        var secondSpace = rest.IndexOf((byte)' ');
        var word = secondSpace < 0 ? rest : rest[..secondSpace];
        return EqualsAscii(word, "OK"u8) || EqualsAscii(word, "NO"u8) || EqualsAscii(word, "BAD"u8)
            || EqualsAscii(word, "BYE"u8) || EqualsAscii(word, "PREAUTH"u8);
    }

    /// <summary>Recognises a line that ends in {n} (or the non-synchronising {n+}, or literal8 ~{n}).</summary>
    public static bool TryGetTrailingLiteral(ReadOnlySpan<byte> line, out long size)
    {
        size = 0;
        if (line.Length < 3 || line[^1] != (byte)'}') return false;
        var open = line.LastIndexOf((byte)'{');
        if (open < 0) return false;
        var digits = line[(open + 1)..^1];
        if (digits.Length > 0 && digits[^1] == (byte)'+') digits = digits[..^1];
        if (digits.Length == 0) return false;
        if (digits.Length > 18)
            throw new ImapProtocolException($"literal size has {digits.Length} digits");
        foreach (var b in digits)
        {
            if (b is < (byte)'0' or > (byte)'9') return false;
            size = size * 10 + (b - '0');
        }
        return true;
    }

    private static bool EqualsAscii(ReadOnlySpan<byte> word, ReadOnlySpan<byte> upper)
    {
        if (word.Length != upper.Length) return false;
        for (var i = 0; i < word.Length; i++)
            if ((word[i] & 0xDF) != upper[i]) return false;
        return true;
    }
}

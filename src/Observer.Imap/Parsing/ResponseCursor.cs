using System.Globalization;
using System.Text;

namespace Observer.Imap;

/// <summary>
/// Reads tokens from one complete response frame. It never reads from the network, so a
/// malformed response can only end in <see cref="ImapProtocolException"/>, never in a hang.
/// </summary>
internal sealed class ResponseCursor
{
    private readonly ResponseFrame _frame;
    private readonly byte[] _text;
    private readonly int _maxDepth;
    private int _position;
    private int _nextLiteral;
    private int _depth;

    public ResponseCursor(ResponseFrame frame, ImapLimits limits)
    {
        _frame = frame;
        _text = frame.Text;
        _maxDepth = limits.MaxNestingDepth;
    }

    public bool AtEnd => _position >= _text.Length;

    public byte Peek() => AtEnd ? (byte)0 : _text[_position];

    public bool IsNext(char c) => !AtEnd && _text[_position] == (byte)c;

    public bool TrySkip(char c)
    {
        if (!IsNext(c)) return false;
        _position++;
        return true;
    }

    public void Expect(char c)
    {
        if (!TrySkip(c)) throw Error($"expected '{c}'");
    }

    public void ExpectSpace() => Expect(' ');

    /// <summary>Skips one space if present. Some servers double or omit spaces where the grammar has one.</summary>
    public bool SkipSpaces()
    {
        var any = false;
        while (TrySkip(' ')) any = true;
        return any;
    }

    public void ExpectEnd()
    {
        SkipSpaces();
        if (!AtEnd) throw Error("unexpected data at end of response");
    }

    /// <summary>An atom: stops at space, parentheses, quote, brace, CTL, and (optionally) ']'.</summary>
    public string ReadAtom(bool stopAtBracket = true)
    {
        var start = _position;
        while (!AtEnd && IsAtomByte(_text[_position], stopAtBracket)) _position++;
        if (_position == start) throw Error("expected an atom");
        return Encoding.UTF8.GetString(_text, start, _position - start);
    }

    /// <summary>A FETCH item name such as BODY or RFC822.SIZE: an atom that also stops at '['.</summary>
    public string ReadItemName()
    {
        var start = _position;
        while (!AtEnd && IsAtomByte(_text[_position], true) && _text[_position] != (byte)'[') _position++;
        if (_position == start) throw Error("expected a FETCH item name");
        return Encoding.UTF8.GetString(_text, start, _position - start);
    }

    /// <summary>A flag: \System, \* or a keyword atom.</summary>
    public string ReadFlag()
    {
        if (TrySkip('\\'))
        {
            if (TrySkip('*')) return "\\*";
            return "\\" + ReadAtom();
        }
        return ReadAtom();
    }

    private static bool IsAtomByte(byte b, bool stopAtBracket) =>
        b > 0x20 && b != 0x7F && b != (byte)'(' && b != (byte)')' && b != (byte)'"' && b != (byte)'{'
        && !(stopAtBracket && b == (byte)']');

    public uint ReadNumber()
    {
        var value = ReadNumber64();
        if (value > uint.MaxValue) throw Error("number too large");
        return (uint)value;
    }

    public ulong ReadNumber64()
    {
        var start = _position;
        ulong value = 0;
        while (!AtEnd && _text[_position] is >= (byte)'0' and <= (byte)'9')
        {
            var digit = (ulong)(_text[_position] - '0');
            if (value > (ulong.MaxValue - digit) / 10) throw Error("number too large");
            value = value * 10 + digit;
            _position++;
        }
        if (_position == start) throw Error("expected a number");
        return value;
    }

    /// <summary>A literal starts here: "{" or, for literal8 (RFC 3516), "~{".</summary>
    public bool IsLiteralStart() =>
        IsNext('{') || (IsNext('~') && _position + 1 < _text.Length && _text[_position + 1] == (byte)'{');

    public bool IsNextDigit() => !AtEnd && _text[_position] is >= (byte)'0' and <= (byte)'9';

    public bool TryReadNil()
    {
        if (_position + 3 > _text.Length) return false;
        if ((_text[_position] | 0x20) != 'n' || (_text[_position + 1] | 0x20) != 'i' || (_text[_position + 2] | 0x20) != 'l')
            return false;
        if (_position + 3 < _text.Length && IsAtomByte(_text[_position + 3], true)) return false;
        _position += 3;
        return true;
    }

    /// <summary>A quoted string or a literal, as bytes.</summary>
    public byte[] ReadStringBytes()
    {
        if (IsNext('"')) return ReadQuoted();
        if (IsLiteralStart())
        {
            using var literal = ReadLiteral();
            return literal.ToArray();
        }
        throw Error("expected a string");
    }

    public string ReadString() => Encoding.UTF8.GetString(ReadStringBytes());

    public string? ReadNString() => TryReadNil() ? null : ReadString();

    /// <summary>An astring: an atom (where ']' is allowed) or a string.</summary>
    public string ReadAString() =>
        IsNext('"') || IsLiteralStart() ? ReadString() : ReadAtom(stopAtBracket: false);

    public byte[] ReadQuoted()
    {
        Expect('"');
        var bytes = new List<byte>();
        while (true)
        {
            if (AtEnd) throw Error("unterminated quoted string");
            var b = _text[_position++];
            if (b == (byte)'"') return bytes.ToArray();
            if (b == (byte)'\\')
            {
                if (AtEnd) throw Error("unterminated quoted string");
                b = _text[_position++];
            }
            bytes.Add(b);
        }
    }

    /// <summary>Takes the literal announced at this point of the text; the caller owns it.</summary>
    public ImapLiteral ReadLiteral()
    {
        TrySkip('~');
        Expect('{');
        var size = ReadNumber64();
        TrySkip('+');
        Expect('}');
        if (_nextLiteral >= _frame.Literals.Length || _frame.LiteralMarkerEnds[_nextLiteral] != _position)
            throw Error("literal marker out of place");
        var literal = _frame.Literals[_nextLiteral];
        if ((ulong)literal.Length != size) throw Error("literal size mismatch");
        _frame.Claim(_nextLiteral);
        _nextLiteral++;
        return literal;
    }

    /// <summary>An nstring that may be a large literal (a message body), returned without copying.</summary>
    public ImapLiteral? ReadNStringAsLiteral()
    {
        if (TryReadNil()) return null;
        if (IsNext('"')) return ImapLiteral.FromBytes(ReadQuoted());
        if (IsLiteralStart()) return ReadLiteral();
        throw Error("expected a string");
    }

    /// <summary>Reads "(" item *(SP item) ")" calling <paramref name="readItem"/> for each item.</summary>
    public void ReadList(Action readItem)
    {
        Expect('(');
        Enter();
        SkipSpaces();
        while (!TrySkip(')'))
        {
            if (AtEnd) throw Error("unterminated list");
            readItem();
            SkipSpaces();
        }
        _depth--;
    }

    public List<string> ReadFlagList()
    {
        var flags = new List<string>();
        ReadList(() => flags.Add(ReadFlag()));
        return flags;
    }

    /// <summary>Skips any single value: atom, number, string, literal, NIL or nested list.</summary>
    public void SkipValue()
    {
        if (IsNext('(')) ReadList(SkipValue);
        else if (IsNext('"')) ReadQuoted();
        else if (IsLiteralStart()) ReadLiteral().Dispose();
        else if (IsNext('['))
        {
            SkipBracketed();
        }
        else
        {
            ReadAtom(stopAtBracket: false);
            if (IsNext('[')) SkipBracketed();
        }
    }

    /// <summary>Reads the text between '[' and the matching ']' (no nesting in IMAP).</summary>
    public string ReadBracketed()
    {
        Expect('[');
        var start = _position;
        while (!AtEnd && _text[_position] != (byte)']') _position++;
        if (AtEnd) throw Error("unterminated '['");
        var text = Encoding.UTF8.GetString(_text, start, _position - start);
        _position++;
        return text;
    }

    private void SkipBracketed() => ReadBracketed();

    /// <summary>The rest of the line as text (resp-text).</summary>
    public string ReadRemainingText()
    {
        var text = Encoding.UTF8.GetString(_text, _position, _text.Length - _position);
        _position = _text.Length;
        return text;
    }

    /// <summary>Reads up to (not including) the next ']' as raw text; used for codes we do not model.</summary>
    public string ReadUntilBracket()
    {
        var start = _position;
        while (!AtEnd && _text[_position] != (byte)']') _position++;
        return Encoding.UTF8.GetString(_text, start, _position - start);
    }

    private void Enter()
    {
        if (++_depth > _maxDepth) throw Error($"lists nested deeper than {_maxDepth}");
    }

    public ImapProtocolException Error(string what)
    {
        var from = Math.Max(0, _position - 40);
        var to = Math.Min(_text.Length, _position + 40);
        var snippet = new StringBuilder();
        foreach (var b in _text.AsSpan(from, to - from))
            snippet.Append(b is >= 0x20 and < 0x7F ? (char)b : '?');
        return new ImapProtocolException(
            string.Create(CultureInfo.InvariantCulture, $"malformed server response: {what} at byte {_position} near \"{snippet}\""));
    }
}

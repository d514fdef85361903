using System.Text;

namespace Observer.Imap;

/// <summary>
/// A command being built: text and literals in order, plus a trace rendering in which
/// sensitive arguments are replaced, so a password can never reach a log.
/// </summary>
internal sealed class ImapCommand
{
    private readonly List<object> _parts = [];
    private readonly StringBuilder _text = new();
    private readonly StringBuilder _trace = new();

    public ImapCommand(string verb, bool utf8Enabled = false)
    {
        Verb = verb;
        Utf8Enabled = utf8Enabled;
        Text(verb);
    }

    /// <summary>The command name used in errors, such as "UID FETCH".</summary>
    public string Verb { get; }

    public bool Utf8Enabled { get; }

    /// <summary>Text chunks (string) and literals (<see cref="LiteralPart"/>) in wire order.</summary>
    public IReadOnlyList<object> Parts
    {
        get
        {
            FlushText();
            return _parts;
        }
    }

    public string TraceText => _trace.ToString();

    public ImapCommand Text(string text)
    {
        _text.Append(text);
        _trace.Append(text);
        return this;
    }

    public ImapCommand Sp() => Text(" ");

    /// <summary>Raw text that must not be traced, such as a SASL initial response.</summary>
    public ImapCommand Secret(string text)
    {
        _text.Append(text);
        _trace.Append("<redacted>");
        return this;
    }

    public ImapCommand Number(ulong n) => Text(n.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>An astring: atom, quoted string or literal, whichever the value allows.</summary>
    public ImapCommand String(string value, bool sensitive = false)
    {
        switch (Classify(value))
        {
            case StringForm.Atom:
                _text.Append(value);
                break;
            case StringForm.Quoted:
                _text.Append('"').Append(value.Replace("\\", "\\\\").Replace("\"", "\\\"")).Append('"');
                break;
            default:
                FlushText();
                _parts.Add(new LiteralPart(ImapLiteral.FromString(value)));
                break;
        }
        _trace.Append(sensitive ? "<redacted>" : Quote(value));
        return this;
    }

    /// <summary>A quoted string even where an atom would do (some arguments, like a search value, read better quoted).</summary>
    public ImapCommand Quoted(string value) =>
        Classify(value) == StringForm.Literal ? String(value) : Text("\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"");

    public ImapCommand Mailbox(string name) =>
        String(name.Equals("INBOX", StringComparison.OrdinalIgnoreCase) ? "INBOX" : MailboxNameCodec.Encode(name, Utf8Enabled));

    public ImapCommand Literal(ImapLiteral content)
    {
        FlushText();
        _parts.Add(new LiteralPart(content));
        _trace.Append($"{{{content.Length}}}<{content.Length} bytes>");
        return this;
    }

    public ImapCommand Flags(MessageFlags flags) => Text(flags.ToImapList());

    private void FlushText()
    {
        if (_text.Length == 0) return;
        _parts.Add(_text.ToString());
        _text.Clear();
    }

    private string Quote(string value) => Classify(value) == StringForm.Atom ? value : "\"" + value + "\"";

    private enum StringForm { Atom, Quoted, Literal }

    private StringForm Classify(string value)
    {
        if (value.Length == 0) return StringForm.Quoted;
        var atom = !value.Equals("NIL", StringComparison.OrdinalIgnoreCase);
        foreach (var c in value)
        {
            if (c is '\r' or '\n' or '\0') return StringForm.Literal;
            if (c > 0x7E && !Utf8Enabled) return StringForm.Literal;
            if (c <= 0x20 || c > 0x7E || c is '(' or ')' or '{' or '%' or '*' or '"' or '\\' or ']') atom = false;
        }
        if (value.Length > 1000) return StringForm.Literal;
        return atom ? StringForm.Atom : StringForm.Quoted;
    }
}

internal sealed record LiteralPart(ImapLiteral Content);

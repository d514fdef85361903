namespace Observer.Imap;

/// <summary>The server's CAPABILITY list, compared without regard to case.</summary>
public sealed class ImapCapabilities
{
    private readonly HashSet<string> _set;

    public ImapCapabilities(IEnumerable<string> capabilities) =>
        _set = new HashSet<string>(capabilities, StringComparer.OrdinalIgnoreCase);

    public static ImapCapabilities Unknown { get; } = new([]);

    public IReadOnlyCollection<string> All => _set;

    public bool Has(string capability) => _set.Contains(capability);

    public bool IsEmpty => _set.Count == 0;

    public bool SupportsAuth(string mechanism) => _set.Contains("AUTH=" + mechanism);

    public bool LoginDisabled => Has("LOGINDISABLED");
    public bool LiteralPlus => Has("LITERAL+");
    public bool LiteralMinus => Has("LITERAL-");
    public bool SaslIr => Has("SASL-IR");
    public bool Idle => Has("IDLE");
    public bool Notify => Has("NOTIFY");
    public bool CondStore => Has("CONDSTORE") || QResync;
    public bool QResync => Has("QRESYNC");
    public bool UidPlus => Has("UIDPLUS");
    public bool Move => Has("MOVE");
    public bool MultiAppend => Has("MULTIAPPEND");
    public bool ListExtended => Has("LIST-EXTENDED");
    public bool ListStatus => Has("LIST-STATUS");
    public bool SpecialUse => Has("SPECIAL-USE");
    public bool ESearch => Has("ESEARCH");
    public bool Enable => Has("ENABLE");
    public bool Unselect => Has("UNSELECT");
    public bool Utf8Accept => Has("UTF8=ACCEPT") || Has("UTF8=ONLY");
    public bool StartTls => Has("STARTTLS");

    public override string ToString() => string.Join(' ', _set);
}

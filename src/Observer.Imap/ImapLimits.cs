namespace Observer.Imap;

/// <summary>
/// Bounds on what a server may make us hold. Servers can be hostile or broken; every buffer
/// the library fills from the network is capped by one of these.
/// </summary>
public sealed record ImapLimits
{
    /// <summary>Longest text of one response, not counting its literals.</summary>
    public int MaxResponseTextLength { get; init; } = 16 * 1024 * 1024;

    /// <summary>Largest literal accepted. Anything larger breaks the connection.</summary>
    public long MaxLiteralSize { get; init; } = 512L * 1024 * 1024;

    /// <summary>Literals up to this size are kept in memory; larger ones go to the literal spool.</summary>
    public int InMemoryLiteralThreshold { get; init; } = 1024 * 1024;

    /// <summary>Most literals in one response.</summary>
    public int MaxLiteralsPerResponse { get; init; } = 4096;

    /// <summary>Deepest nesting of parenthesised lists (BODYSTRUCTURE is the deepest legitimate one).</summary>
    public int MaxNestingDepth { get; init; } = 64;

    public static ImapLimits Default { get; } = new();
}

namespace Observer.Imap;

/// <summary>Connection state that changes how responses are read.</summary>
internal sealed record ParseContext(ImapLimits Limits, bool Utf8Enabled)
{
    public static ParseContext Default { get; } = new(ImapLimits.Default, false);
}

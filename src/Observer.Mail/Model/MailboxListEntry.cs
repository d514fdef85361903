namespace Observer.Mail;

/// <summary>One mailbox from LIST or LSUB, with its name decoded to Unicode.</summary>
public sealed record MailboxListEntry(
    string Name,
    char? Delimiter,
    IReadOnlySet<string> Attributes,
    string? OldName = null)
{
    public bool HasAttribute(string attribute) => Attributes.Contains(attribute);

    /// <summary>\Noselect or \NonExistent: a hierarchy node that holds no messages.</summary>
    public bool IsSelectable => !HasAttribute("\\Noselect") && !HasAttribute("\\NonExistent");

    public bool IsSubscribed => HasAttribute("\\Subscribed");

    /// <summary>The RFC 6154 special-use attribute, such as \Sent, if any.</summary>
    public string? SpecialUse => Attributes.FirstOrDefault(a => SpecialUses.Contains(a));

    private static readonly HashSet<string> SpecialUses = new(StringComparer.OrdinalIgnoreCase)
    {
        "\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash", "\\Important",
    };
}

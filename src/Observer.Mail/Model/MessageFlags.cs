namespace Observer.Mail;

/// <summary>
/// A message's system flags and keywords. Flags compare without regard to case, as servers do.
/// Immutable: every change returns a new set.
/// </summary>
public sealed class MessageFlags : IEquatable<MessageFlags>
{
    public const string Seen = "\\Seen";
    public const string Answered = "\\Answered";
    public const string Flagged = "\\Flagged";
    public const string Deleted = "\\Deleted";
    public const string Draft = "\\Draft";
    public const string Recent = "\\Recent";

    private static readonly string[] SystemFlags = [Seen, Answered, Flagged, Deleted, Draft, Recent];

    private readonly SortedSet<string> _flags;

    public MessageFlags(IEnumerable<string> flags)
    {
        _flags = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var flag in flags) _flags.Add(Canonical(flag));
    }

    public static MessageFlags None { get; } = new([]);

    public IReadOnlyCollection<string> All => _flags;

    public int Count => _flags.Count;

    public bool Contains(string flag) => _flags.Contains(flag);

    /// <summary>\Recent is session state that no client can set; replication ignores it.</summary>
    public MessageFlags WithoutRecent() => Contains(Recent) ? new(_flags.Where(f => !f.Equals(Recent, StringComparison.OrdinalIgnoreCase))) : this;

    public MessageFlags With(string flag) => new(_flags.Append(flag));

    public MessageFlags Without(string flag) => new(_flags.Where(f => !f.Equals(flag, StringComparison.OrdinalIgnoreCase)));

    /// <summary>The parenthesised list for a command, such as (\Seen $Forwarded).</summary>
    public string ToImapList() => "(" + string.Join(' ', _flags) + ")";

    /// <summary>A stable text form for storage and comparison.</summary>
    public override string ToString() => string.Join(' ', _flags);

    public static MessageFlags Parse(string? text) =>
        string.IsNullOrWhiteSpace(text) ? None : new(text.Split(' ', StringSplitOptions.RemoveEmptyEntries));

    public bool Equals(MessageFlags? other) => other is not null && _flags.SetEquals(other._flags);

    public override bool Equals(object? obj) => Equals(obj as MessageFlags);

    public override int GetHashCode()
    {
        var hash = 0;
        foreach (var f in _flags) hash ^= StringComparer.OrdinalIgnoreCase.GetHashCode(f);
        return hash;
    }

    private static string Canonical(string flag)
    {
        foreach (var system in SystemFlags)
            if (system.Equals(flag, StringComparison.OrdinalIgnoreCase)) return system;
        return flag;
    }
}

namespace Observer.Replication;

/// <summary>What one server offers, as far as replication cares.</summary>
public sealed record SessionFeatures
{
    public bool CondStore { get; init; }
    public bool QResync { get; init; }
    public bool UidPlus { get; init; }
    public bool Move { get; init; }
    public bool MultiAppend { get; init; }
    public bool Notify { get; init; }
    public bool Idle { get; init; }
    public bool ListStatus { get; init; }
    public bool Unselect { get; init; }
}

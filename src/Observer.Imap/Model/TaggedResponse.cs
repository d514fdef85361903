namespace Observer.Imap;

/// <summary>The tagged completion of a command.</summary>
public sealed record TaggedResponse(string Tag, ResponseCondition Condition, ResponseCode? Code, string Text);

/// <summary>A "+" continuation request.</summary>
internal sealed record ContinuationResponse(string Text);

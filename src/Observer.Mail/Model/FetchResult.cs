namespace Observer.Mail;

/// <summary>The messages a UID FETCH returned and, with VANISHED, the UIDs expunged since CHANGEDSINCE.</summary>
public sealed class FetchResult(IReadOnlyList<MessageData> messages, UidSet vanished) : IDisposable
{
    public IReadOnlyList<MessageData> Messages { get; } = messages;

    public UidSet Vanished { get; } = vanished;

    public void Dispose()
    {
        foreach (var message in Messages) message.Dispose();
    }
}

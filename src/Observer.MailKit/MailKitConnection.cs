namespace Observer.MailKit;

/// <summary>A logged-in MailKit client with the protocol tap that reads its server's completion lines.</summary>
public sealed class MailKitConnection(SpoolingImapClient client, ProtocolTraceLogger tap, string side) : IDisposable
{
    public SpoolingImapClient Client { get; } = client;

    public ProtocolTraceLogger Tap { get; } = tap;

    /// <summary>"primary" or "replica", for messages.</summary>
    public string Side { get; } = side;

    public void Dispose() => Client.Dispose();
}

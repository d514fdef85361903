namespace Observer.MailKit;

/// <summary>A logged-in MailKit client with the protocol tap that reads its server's completion lines.</summary>
public sealed class MailKitConnection(SpoolingImapClient client, ProtocolTraceLogger tap, string side) : IDisposable
{
    public SpoolingImapClient Client { get; } = client;

    public ProtocolTraceLogger Tap { get; } = tap;

    /// <summary>"primary" or "replica", for messages.</summary>
    public string Side { get; } = side;

    /// <summary>The TCP stream under MailKit (and under TLS), when Observer opened it.</summary>
    internal ReadAheadSocketStream? Transport { get; init; }

    /// <summary>Connected as far as MailKit knows, and not closed by the server since it last read.</summary>
    public bool IsConnected => Client.IsConnected && Transport?.PeerGone != true;

    /// <summary>Its slot in the server's connection budget, given back once the socket is closed.</summary>
    internal IDisposable? Lease { get; set; }

    public void Dispose()
    {
        try
        {
            Client.Dispose();
        }
        finally
        {
            Lease?.Dispose();
        }
    }
}

namespace Observer.Mail;

/// <summary>The items of one FETCH response. Items the server did not send are null.</summary>
public sealed class MessageData : IDisposable
{
    public uint? Uid { get; set; }
    public MessageFlags? Flags { get; set; }
    public DateTimeOffset? InternalDate { get; set; }
    public long? Size { get; set; }
    public ulong? ModSeq { get; set; }

    /// <summary>BODY[] — the raw message. Spooled to disk when large.</summary>
    public ImapLiteral? Body { get; set; }

    /// <summary>BODY[HEADER.FIELDS (...)] — the requested header lines.</summary>
    public byte[]? HeaderFields { get; set; }

    public void Dispose() => Body?.Dispose();
}

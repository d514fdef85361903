using Observer.Mail;

namespace Observer.Replication;

/// <summary>What is known of a message without its bytes: enough to pick candidates for an MD5 comparison.</summary>
public sealed record MessageSummary(uint Uid, MessageFlags Flags, DateTimeOffset? InternalDate, long Size, string? MessageId)
{
    public static MessageSummary From(MessageData data) => new(
        data.Uid ?? throw new ImapProtocolException("FETCH response without UID"),
        (data.Flags ?? MessageFlags.None).WithoutRecent(),
        data.InternalDate,
        data.Size ?? data.Body?.Length ?? 0,
        data.HeaderFields is { } header ? MessageIdHeader.Parse(header)
            : data.Body is { } body ? MessageIdHeader.FromMessage(body) : null);

    /// <summary>Equal content has equal size and Message-ID, so only such pairs need their bytes compared.</summary>
    public (long, string?) CandidateKey => (Size, MessageId);
}

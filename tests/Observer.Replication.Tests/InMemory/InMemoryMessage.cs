using Observer.Mail;

namespace Observer.Replication.Tests.InMemory;

/// <summary>One stored message: its raw bytes never change; flags do, each change with a new mod-sequence.</summary>
public sealed class InMemoryMessage(uint uid, byte[] bytes, MessageFlags flags, DateTimeOffset internalDate, ulong modSeq)
{
    public uint Uid { get; } = uid;
    public byte[] Bytes { get; } = bytes;
    public MessageFlags Flags { get; set; } = flags;
    public DateTimeOffset InternalDate { get; } = internalDate;
    public ulong ModSeq { get; set; } = modSeq;

    public string Md5 => Convert.ToHexString(System.Security.Cryptography.MD5.HashData(Bytes));

    /// <summary>The header section, up to and with the blank line that ends it (what BODY[HEADER.FIELDS] would be cut from).</summary>
    public byte[] Header
    {
        get
        {
            var end = Bytes.AsSpan().IndexOf("\r\n\r\n"u8);
            return end < 0 ? Bytes : Bytes[..(end + 4)];
        }
    }
}

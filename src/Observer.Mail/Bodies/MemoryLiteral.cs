namespace Observer.Mail;

internal sealed class MemoryLiteral(ReadOnlyMemory<byte> bytes) : ImapLiteral
{
    public override long Length => bytes.Length;

    public override Stream OpenRead() =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(bytes, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(bytes.ToArray(), writable: false);

    public override bool TryGetMemory(out ReadOnlyMemory<byte> memory)
    {
        memory = bytes;
        return true;
    }
}

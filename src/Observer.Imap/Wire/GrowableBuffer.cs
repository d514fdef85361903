namespace Observer.Imap;

/// <summary>A byte buffer that grows by doubling and can drop its last byte (the CR of a CRLF).</summary>
internal sealed class GrowableBuffer(int initialCapacity)
{
    private byte[] _bytes = new byte[initialCapacity];

    public int Count { get; private set; }

    public ReadOnlySpan<byte> WrittenSpan => _bytes.AsSpan(0, Count);

    public void Write(ReadOnlySpan<byte> data)
    {
        if (Count + data.Length > _bytes.Length)
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, Count + data.Length));
        data.CopyTo(_bytes.AsSpan(Count));
        Count += data.Length;
    }

    public void RemoveLast() => Count--;

    public byte[] ToArray() => WrittenSpan.ToArray();
}

namespace Observer.Mail;

/// <summary>
/// The bytes of a literal: a message body fetched from a server, or content to APPEND.
/// Small literals live in memory; large ones are spooled to disk so memory stays flat.
/// </summary>
public abstract class ImapLiteral : IDisposable
{
    public abstract long Length { get; }

    /// <summary>Opens an independent read-only view from the first byte.</summary>
    public abstract Stream OpenRead();

    /// <summary>
    /// The MD5 of the bytes, where it was worked out as they arrived (a large body spooled from a server);
    /// null otherwise. Saves reading a spool file back only to hash it.
    /// </summary>
    public virtual byte[]? KnownMd5 => null;

    /// <summary>True when the bytes are in memory and can be read without I/O.</summary>
    public virtual bool TryGetMemory(out ReadOnlyMemory<byte> memory)
    {
        memory = default;
        return false;
    }

    public virtual async Task CopyToAsync(Stream destination, CancellationToken cancellationToken)
    {
        if (TryGetMemory(out var memory))
        {
            await destination.WriteAsync(memory, cancellationToken).ConfigureAwait(false);
            return;
        }
        await using var source = OpenRead();
        await source.CopyToAsync(destination, 81920, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Copies the bytes into a new array. Only for literals known to be small.</summary>
    public byte[] ToArray()
    {
        if (TryGetMemory(out var memory)) return memory.ToArray();
        if (Length > int.MaxValue) throw new InvalidOperationException("literal too large for an array");
        using var source = OpenRead();
        var result = new byte[Length];
        source.ReadExactly(result);
        return result;
    }

    public static ImapLiteral FromBytes(ReadOnlyMemory<byte> bytes) => new MemoryLiteral(bytes);

    /// <summary>A literal backed by a file, read only when it is sent.</summary>
    public static ImapLiteral FromFile(string path) => new FileLiteral(path);

    public static ImapLiteral FromString(string text) => new MemoryLiteral(System.Text.Encoding.UTF8.GetBytes(text));

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing) { }
}

using System.Buffers;
using System.Security.Cryptography;
using Observer.Mail;

namespace Observer.Replication;

/// <summary>The MD5 of a message's raw bytes: the identity of a copy.</summary>
public static class Md5
{
    /// <summary>Large reads: a spooled body is read straight from its file, where 4 KB pieces cost a system call each.</summary>
    private const int ReadSize = 256 * 1024;

    public static async Task<byte[]> OfAsync(ImapLiteral content, CancellationToken cancellationToken)
    {
        if (content.KnownMd5 is { } known) return known;
        if (content.TryGetMemory(out var memory)) return MD5.HashData(memory.Span);
        await using var stream = content.OpenRead();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var buffer = ArrayPool<byte>.Shared.Rent(ReadSize);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(0, ReadSize), cancellationToken).ConfigureAwait(false)) > 0)
                hash.AppendData(buffer, 0, read);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return hash.GetHashAndReset();
    }

    public static string Hex(byte[] md5) => Convert.ToHexString(md5).ToLowerInvariant();
}

using System.Security.Cryptography;
using Observer.Mail;

namespace Observer.Replication;

/// <summary>The MD5 of a message's raw bytes: the identity of a copy.</summary>
public static class Md5
{
    public static async Task<byte[]> OfAsync(ImapLiteral content, CancellationToken cancellationToken)
    {
        if (content.TryGetMemory(out var memory)) return MD5.HashData(memory.Span);
        await using var stream = content.OpenRead();
        return await MD5.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
    }

    public static string Hex(byte[] md5) => Convert.ToHexString(md5).ToLowerInvariant();
}

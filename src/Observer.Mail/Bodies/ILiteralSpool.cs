namespace Observer.Mail;

/// <summary>
/// Where literals above <see cref="ImapLimits.InMemoryLiteralThreshold"/> are written while they
/// arrive. Callers can supply their own sink; the default spools to unlinked temporary files.
/// </summary>
public interface ILiteralSpool
{
    /// <summary>Starts a spooled literal that will receive exactly <paramref name="length"/> bytes.</summary>
    ISpoolWriter Create(long length);
}

/// <summary>One literal being written to a spool.</summary>
public interface ISpoolWriter : IDisposable
{
    ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken);

    /// <summary>Ends writing and hands over the finished literal. The writer must not be used afterwards.</summary>
    ImapLiteral Complete();
}

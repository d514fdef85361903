namespace Observer.Imap;

/// <summary>
/// A token cancelled by the caller's token or when <c>limit</c> has passed on the injected clock.
/// CancelAfter would run on the system clock, which a test cannot move.
/// </summary>
internal sealed class TimeLimit : IDisposable
{
    private readonly CancellationTokenSource _timer;
    private readonly CancellationTokenSource _linked;

    public TimeLimit(TimeSpan limit, TimeProvider time, CancellationToken cancellationToken)
    {
        _timer = new CancellationTokenSource(limit, time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _timer.Token);
    }

    public CancellationToken Token => _linked.Token;

    public void Dispose()
    {
        _linked.Dispose();
        _timer.Dispose();
    }
}

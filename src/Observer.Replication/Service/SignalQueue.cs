using System.Threading.Channels;

namespace Observer.Replication;

/// <summary>
/// The bounded queue between watchers and the engine. A watcher never blocks on it; if it is full,
/// the signal is dropped and the overflow is remembered, which makes the engine reconcile everything.
/// </summary>
internal sealed class SignalQueue(int capacity, Action<ChangeSignal>? onSignal = null)
{
    private readonly Channel<ChangeSignal> _channel = Channel.CreateBounded<ChangeSignal>(new BoundedChannelOptions(capacity) { SingleReader = true });
    private readonly Action<ChangeSignal>? _onSignal = onSignal;
    private int _overflowed;

    public ChannelReader<ChangeSignal> Reader => _channel.Reader;

    public ChannelWriter<ChangeSignal> Writer => new OverflowWriter(this);

    /// <summary>True once since the last call if signals were dropped.</summary>
    public bool TakeOverflow() => Interlocked.Exchange(ref _overflowed, 0) == 1;

    private sealed class OverflowWriter(SignalQueue queue) : ChannelWriter<ChangeSignal>
    {
        public override bool TryWrite(ChangeSignal item)
        {
            // Noted at once, so `status` shows the lag growing even while the replica is away and nothing is
            // drained, and slow work in progress can stop for new mail.
            queue._onSignal?.Invoke(item);
            if (queue._channel.Writer.TryWrite(item)) return true;
            Interlocked.Exchange(ref queue._overflowed, 1);
            return false;
        }

        public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(true);
    }
}

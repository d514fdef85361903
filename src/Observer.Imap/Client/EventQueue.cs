using System.Threading.Channels;

namespace Observer.Imap;

/// <summary>
/// The bounded channel of untagged events. When the reader falls behind, events are dropped and a
/// single <see cref="EventsDroppedResponse"/> tells it to resynchronise, as inotify does on overflow.
/// The network reader never blocks on a slow consumer.
/// </summary>
internal sealed class EventQueue(int capacity)
{
    private readonly Channel<UntaggedResponse> _channel = Channel.CreateBounded<UntaggedResponse>(
        new BoundedChannelOptions(Math.Max(2, capacity)) { SingleReader = false, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });

    private long _dropped;

    public ChannelReader<UntaggedResponse> Reader => _channel.Reader;

    public void Publish(UntaggedResponse response)
    {
        if (_dropped > 0 && _channel.Writer.TryWrite(new EventsDroppedResponse(_dropped))) _dropped = 0;
        if (_dropped == 0 && _channel.Writer.TryWrite(response)) return;
        _dropped++;
        (response as IDisposable)?.Dispose();
    }

    public void Complete(Exception? error) => _channel.Writer.TryComplete(error);
}

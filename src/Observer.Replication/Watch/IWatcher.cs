using System.Threading.Channels;

namespace Observer.Replication;

internal interface IWatcher
{
    string Name { get; }

    /// <summary>Watches until cancelled, reconnecting by itself; never throws but on cancellation.</summary>
    Task RunAsync(ChannelWriter<ChangeSignal> signals, CancellationToken cancellationToken);
}

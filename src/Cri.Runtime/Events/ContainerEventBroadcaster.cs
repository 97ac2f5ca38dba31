using System.Threading.Channels;
using Crisp.Cri.V1;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Events;

/// <summary>
/// Fans container lifecycle events out to every GetContainerEvents subscriber, in publication order.
/// Each subscriber has a bounded buffer; a subscriber that stops reading loses its stream (it is completed
/// with an error) rather than slowing the runtime or growing memory without bound — the kubelet then
/// re-subscribes and relists, as Evented PLEG does on any stream error.
/// </summary>
public sealed partial class ContainerEventBroadcaster(ILogger<ContainerEventBroadcaster> logger)
{
    /// <summary>
    /// Events one subscriber may have unread. Stopping and removing a pod of N containers publishes 2N + 2 events in a
    /// few seconds, each carrying all N statuses, and on a busy node the subscriber reads them slower than they come:
    /// at 1,024 a pod of 1,000 created containers cost the kubelet its stream (measured with bench --scale 1000). A
    /// queued event holds references to statuses shared with the pod's other events, so 4,096 of them stay small
    /// (about 8 bytes per container of the pod each, 32 MiB for a 1,000-container pod at the worst).
    /// </summary>
    public const int SubscriberBufferSize = 4096;

    private readonly object _gate = new();
    private readonly List<Channel<ContainerEventResponse>> _subscribers = [];

    public int SubscriberCount
    {
        get { lock (_gate) return _subscribers.Count; }
    }

    public Subscription Subscribe()
    {
        var channel = Channel.CreateBounded<ContainerEventResponse>(new BoundedChannelOptions(SubscriberBufferSize)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        lock (_gate) _subscribers.Add(channel);
        return new Subscription(this, channel);
    }

    /// <summary>Never blocks: called under a container's lock.</summary>
    public void Publish(ContainerEventResponse response)
    {
        lock (_gate)
        {
            for (var i = _subscribers.Count - 1; i >= 0; i--)
            {
                var channel = _subscribers[i];
                if (channel.Writer.TryWrite(response)) continue;
                channel.Writer.TryComplete(new InvalidOperationException(
                    $"event subscriber fell more than {SubscriberBufferSize} events behind and was disconnected"));
                _subscribers.RemoveAt(i);
                LogSubscriberDropped(logger, SubscriberBufferSize);
            }
        }
    }

    private void Unsubscribe(Channel<ContainerEventResponse> channel)
    {
        lock (_gate) _subscribers.Remove(channel);
        channel.Writer.TryComplete();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Container event subscriber fell {Buffer} events behind (limit SubscriberBufferSize); disconnected")]
    private static partial void LogSubscriberDropped(ILogger logger, int buffer);

    public sealed class Subscription : IDisposable
    {
        private readonly ContainerEventBroadcaster _owner;
        private readonly Channel<ContainerEventResponse> _channel;

        internal Subscription(ContainerEventBroadcaster owner, Channel<ContainerEventResponse> channel) =>
            (_owner, _channel) = (owner, channel);

        public ChannelReader<ContainerEventResponse> Reader => _channel.Reader;

        public void Dispose() => _owner.Unsubscribe(_channel);
    }
}

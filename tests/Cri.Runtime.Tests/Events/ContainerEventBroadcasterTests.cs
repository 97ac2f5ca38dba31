using Xunit;
using Crisp.Cri.V1;
using Crisp.Runtime.Events;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crisp.Runtime.Tests.Events;

public sealed class ContainerEventBroadcasterTests
{
    private static ContainerEventResponse Event(string id, ContainerEventType type) => new() { ContainerId = id, ContainerEventType = type };

    [Fact]
    public async Task Every_subscriber_gets_every_event_in_order()
    {
        var broadcaster = new ContainerEventBroadcaster(NullLogger<ContainerEventBroadcaster>.Instance);
        using var a = broadcaster.Subscribe();
        using var b = broadcaster.Subscribe();
        broadcaster.Publish(Event("c", ContainerEventType.ContainerCreatedEvent));
        broadcaster.Publish(Event("c", ContainerEventType.ContainerStartedEvent));
        broadcaster.Publish(Event("c", ContainerEventType.ContainerStoppedEvent));
        foreach (var sub in new[] { a, b })
        {
            Assert.Equal(ContainerEventType.ContainerCreatedEvent, (await sub.Reader.ReadAsync()).ContainerEventType);
            Assert.Equal(ContainerEventType.ContainerStartedEvent, (await sub.Reader.ReadAsync()).ContainerEventType);
            Assert.Equal(ContainerEventType.ContainerStoppedEvent, (await sub.Reader.ReadAsync()).ContainerEventType);
        }
    }

    [Fact]
    public void Disposed_subscribers_stop_receiving()
    {
        var broadcaster = new ContainerEventBroadcaster(NullLogger<ContainerEventBroadcaster>.Instance);
        var sub = broadcaster.Subscribe();
        Assert.Equal(1, broadcaster.SubscriberCount);
        sub.Dispose();
        Assert.Equal(0, broadcaster.SubscriberCount);
        broadcaster.Publish(Event("c", ContainerEventType.ContainerCreatedEvent));
        Assert.True(sub.Reader.Completion.IsCompleted);
    }

    [Fact]
    public async Task A_subscriber_that_falls_too_far_behind_is_disconnected_not_waited_for()
    {
        var broadcaster = new ContainerEventBroadcaster(NullLogger<ContainerEventBroadcaster>.Instance);
        using var slow = broadcaster.Subscribe();
        for (var i = 0; i <= ContainerEventBroadcaster.SubscriberBufferSize; i++)
            broadcaster.Publish(Event("c" + i, ContainerEventType.ContainerCreatedEvent));
        Assert.Equal(0, broadcaster.SubscriberCount);
        var drained = 0;
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var _ in slow.Reader.ReadAllAsync()) drained++;
        });
        Assert.Equal(ContainerEventBroadcaster.SubscriberBufferSize, drained);
    }
}

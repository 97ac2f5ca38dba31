using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    /// <summary>Streams lifecycle events until the client goes away (Evented PLEG keeps one stream open).</summary>
    public override async Task GetContainerEvents(GetEventsRequest request, IServerStreamWriter<ContainerEventResponse> responseStream, ServerCallContext context)
    {
        using var subscription = runtime.SubscribeToEvents();
        try
        {
            await foreach (var item in subscription.Reader.ReadAllAsync(context.CancellationToken))
                await responseStream.WriteAsync(item, context.CancellationToken);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The client closed the stream: a normal end.
        }
    }
}

using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public override async Task StreamContainerStats(StreamContainerStatsRequest request, IServerStreamWriter<StreamContainerStatsResponse> responseStream, ServerCallContext context)
    {
        await StreamPaging.WritePagesAsync(await runtime.ListContainerStatsAsync(request.Filter, context.CancellationToken), page => new StreamContainerStatsResponse { ContainerStats = { page } }, responseStream, context.CancellationToken);
    }
}

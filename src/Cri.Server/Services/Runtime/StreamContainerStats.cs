using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public override async Task StreamContainerStats(StreamContainerStatsRequest request, IServerStreamWriter<StreamContainerStatsResponse> responseStream, ServerCallContext context)
    {
        var stats = await runtime.ListContainerStatsAsync(request.Filter, context.CancellationToken);
        foreach (var page in stats.Chunk(StreamPageSize))
        {
            var response = new StreamContainerStatsResponse();
            response.ContainerStats.Add(page);
            await responseStream.WriteAsync(response, context.CancellationToken);
        }
    }
}

using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public override async Task StreamPodSandboxStats(StreamPodSandboxStatsRequest request, IServerStreamWriter<StreamPodSandboxStatsResponse> responseStream, ServerCallContext context)
    {
        var stats = await runtime.ListPodSandboxStatsAsync(request.Filter, context.CancellationToken);
        foreach (var page in stats.Chunk(StreamPageSize))
        {
            var response = new StreamPodSandboxStatsResponse();
            response.PodSandboxStats.Add(page);
            await responseStream.WriteAsync(response, context.CancellationToken);
        }
    }
}

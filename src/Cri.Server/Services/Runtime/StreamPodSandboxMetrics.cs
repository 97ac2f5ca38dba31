using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public override async Task StreamPodSandboxMetrics(StreamPodSandboxMetricsRequest request, IServerStreamWriter<StreamPodSandboxMetricsResponse> responseStream, ServerCallContext context)
    {
        var metrics = await runtime.ListPodSandboxMetricsAsync(context.CancellationToken);
        foreach (var page in metrics.Chunk(StreamPageSize))
        {
            var response = new StreamPodSandboxMetricsResponse();
            response.PodSandboxMetrics.Add(page);
            await responseStream.WriteAsync(response, context.CancellationToken);
        }
    }
}

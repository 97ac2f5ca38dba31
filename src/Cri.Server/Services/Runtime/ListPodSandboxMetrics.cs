using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public override async Task<ListPodSandboxMetricsResponse> ListPodSandboxMetrics(ListPodSandboxMetricsRequest request, ServerCallContext context)
    {
        var response = new ListPodSandboxMetricsResponse();
        response.PodMetrics.Add(await runtime.ListPodSandboxMetricsAsync(context.CancellationToken));
        return response;
    }
}

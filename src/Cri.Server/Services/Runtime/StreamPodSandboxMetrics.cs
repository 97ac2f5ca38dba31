using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public override async Task StreamPodSandboxMetrics(StreamPodSandboxMetricsRequest request, IServerStreamWriter<StreamPodSandboxMetricsResponse> responseStream, ServerCallContext context)
    {
        await StreamPaging.WritePagesAsync(await runtime.ListPodSandboxMetricsAsync(context.CancellationToken), page => new StreamPodSandboxMetricsResponse { PodSandboxMetrics = { page } }, responseStream, context.CancellationToken);
    }
}

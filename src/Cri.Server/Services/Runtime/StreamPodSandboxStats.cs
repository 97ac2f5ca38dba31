using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public override async Task StreamPodSandboxStats(StreamPodSandboxStatsRequest request, IServerStreamWriter<StreamPodSandboxStatsResponse> responseStream, ServerCallContext context)
    {
        await StreamPaging.WritePagesAsync(await runtime.ListPodSandboxStatsAsync(request.Filter, context.CancellationToken), page => new StreamPodSandboxStatsResponse { PodSandboxStats = { page } }, responseStream, context.CancellationToken);
    }
}

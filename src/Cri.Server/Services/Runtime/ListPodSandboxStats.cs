using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public override async Task<ListPodSandboxStatsResponse> ListPodSandboxStats(ListPodSandboxStatsRequest request, ServerCallContext context)
    {
        var response = new ListPodSandboxStatsResponse();
        response.Stats.Add(await runtime.ListPodSandboxStatsAsync(request.Filter, context.CancellationToken));
        return response;
    }
}

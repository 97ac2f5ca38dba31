using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public override async Task<ListContainerStatsResponse> ListContainerStats(ListContainerStatsRequest request, ServerCallContext context)
    {
        var response = new ListContainerStatsResponse();
        response.Stats.Add(await runtime.ListContainerStatsAsync(request.Filter, context.CancellationToken));
        return response;
    }
}

using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public override async Task<UpdateContainerResourcesResponse> UpdateContainerResources(UpdateContainerResourcesRequest request, ServerCallContext context)
    {
        await runtime.UpdateContainerResourcesAsync(request, context.CancellationToken);
        return new UpdateContainerResourcesResponse();
    }
}

using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public override async Task<UpdatePodSandboxResourcesResponse> UpdatePodSandboxResources(UpdatePodSandboxResourcesRequest request, ServerCallContext context)
    {
        await runtime.UpdatePodSandboxResourcesAsync(request, context.CancellationToken);
        return new UpdatePodSandboxResourcesResponse();
    }
}

using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public override Task<ListContainersResponse> ListContainers(ListContainersRequest request, ServerCallContext context)
    {
        var response = new ListContainersResponse();
        response.Containers.Add(runtime.ListContainers(request.Filter));
        return Task.FromResult(response);
    }
}

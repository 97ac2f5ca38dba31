using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public override Task<ListPodSandboxResponse> ListPodSandbox(ListPodSandboxRequest request, ServerCallContext context)
    {
        var response = new ListPodSandboxResponse();
        response.Items.Add(runtime.ListPodSandboxes(request.Filter));
        return Task.FromResult(response);
    }
}

using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    /// <summary>The kubelet's node-level settings; today that is only the pod CIDR (for CNI ipRanges).</summary>
    public override async Task<UpdateRuntimeConfigResponse> UpdateRuntimeConfig(UpdateRuntimeConfigRequest request, ServerCallContext context)
    {
        var podCidr = request.RuntimeConfig?.NetworkConfig?.PodCidr ?? "";
        if (podCidr.Length > 0) await runtime.UpdatePodCidrAsync(podCidr, context.CancellationToken);
        return new UpdateRuntimeConfigResponse();
    }
}

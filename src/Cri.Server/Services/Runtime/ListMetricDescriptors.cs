using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public override Task<ListMetricDescriptorsResponse> ListMetricDescriptors(ListMetricDescriptorsRequest request, ServerCallContext context)
    {
        var response = new ListMetricDescriptorsResponse();
        response.Descriptors.Add(runtime.ListMetricDescriptors());
        return Task.FromResult(response);
    }
}

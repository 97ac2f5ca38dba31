using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public override async Task StreamContainers(StreamContainersRequest request, IServerStreamWriter<StreamContainersResponse> responseStream, ServerCallContext context)
    {
        foreach (var page in runtime.ListContainers(request.Filter).Chunk(StreamPageSize))
        {
            var response = new StreamContainersResponse();
            response.Containers.Add(page);
            await responseStream.WriteAsync(response, context.CancellationToken);
        }
    }
}

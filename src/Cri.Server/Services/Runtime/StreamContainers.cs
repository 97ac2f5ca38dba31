using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public override async Task StreamContainers(StreamContainersRequest request, IServerStreamWriter<StreamContainersResponse> responseStream, ServerCallContext context)
    {
        await StreamPaging.WritePagesAsync(runtime.ListContainers(request.Filter), page => new StreamContainersResponse { Containers = { page } }, responseStream, context.CancellationToken);
    }
}

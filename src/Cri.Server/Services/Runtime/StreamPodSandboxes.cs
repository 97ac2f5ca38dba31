using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    /// <summary>The ListPodSandbox result in pages, so a node with many pods never hits the message size limit.</summary>
    public override async Task StreamPodSandboxes(StreamPodSandboxesRequest request, IServerStreamWriter<StreamPodSandboxesResponse> responseStream, ServerCallContext context)
    {
        await StreamPaging.WritePagesAsync(runtime.ListPodSandboxes(request.Filter), page => new StreamPodSandboxesResponse { PodSandboxes = { page } }, responseStream, context.CancellationToken);
    }
}

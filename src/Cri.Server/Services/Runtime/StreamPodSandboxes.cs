using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    /// <summary>The ListPodSandbox result in pages, so a node with many pods never hits the message size limit.</summary>
    public override async Task StreamPodSandboxes(StreamPodSandboxesRequest request, IServerStreamWriter<StreamPodSandboxesResponse> responseStream, ServerCallContext context)
    {
        foreach (var page in runtime.ListPodSandboxes(request.Filter).Chunk(StreamPageSize))
        {
            var response = new StreamPodSandboxesResponse();
            response.PodSandboxes.Add(page);
            await responseStream.WriteAsync(response, context.CancellationToken);
        }
    }

    /// <summary>Items per message of the Stream* list RPCs.</summary>
    public const int StreamPageSize = 100;
}

using Crisp.Cri.V1;
using Crisp.Server.Streaming;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public override Task<AttachResponse> Attach(AttachRequest request, ServerCallContext context)
    {
        runtime.ValidateAttach(request);
        return Task.FromResult(new AttachResponse { Url = streaming.Register(StreamingServer.AttachPath, request) });
    }
}

using Crisp.Cri.V1;
using Crisp.Server.Streaming;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public override Task<PortForwardResponse> PortForward(PortForwardRequest request, ServerCallContext context)
    {
        runtime.ValidatePortForward(request);
        return Task.FromResult(new PortForwardResponse { Url = streaming.Register(StreamingServer.PortForwardPath, request) });
    }
}

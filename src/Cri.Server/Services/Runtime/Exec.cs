using Crisp.Cri.V1;
using Crisp.Server.Streaming;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    /// <summary>Checks the request now (so errors reach the kubelet as gRPC statuses) and hands out a one-minute URL.</summary>
    public override Task<ExecResponse> Exec(ExecRequest request, ServerCallContext context)
    {
        runtime.ValidateExec(request);
        return Task.FromResult(new ExecResponse { Url = streaming.Register(StreamingServer.ExecPath, request) });
    }
}

using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public override Task<ExecSyncResponse> ExecSync(ExecSyncRequest request, ServerCallContext context) =>
        runtime.ExecSyncAsync(request, context.CancellationToken);
}

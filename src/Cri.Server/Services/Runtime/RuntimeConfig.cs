using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public override Task<RuntimeConfigResponse> RuntimeConfig(RuntimeConfigRequest request, ServerCallContext context) =>
        Task.FromResult(new RuntimeConfigResponse
        {
            Linux = new LinuxRuntimeConfiguration
            {
                CgroupDriver = daemon.Config.RuntimeCgroupDriver == "systemd" ? CgroupDriver.Systemd : CgroupDriver.Cgroupfs,
            },
        });
}

using Crisp.Cri.V1;
using Crisp.Server.Telemetry;
using Grpc.Core;

namespace Crisp.Server.Services.Runtime;

public sealed partial class CrispRuntimeService
{
    public const string RuntimeName = "crisp";
    public const string RuntimeApiVersion = "v1";
    /// <summary>The kubelet-facing API version string containerd and CRI-O also report.</summary>
    public const string KubeletApiVersion = "0.1.0";

    public override Task<VersionResponse> Version(VersionRequest request, ServerCallContext context) =>
        Task.FromResult(new VersionResponse
        {
            Version = KubeletApiVersion,
            RuntimeName = RuntimeName,
            RuntimeVersion = DaemonVersion.Version,
            RuntimeApiVersion = RuntimeApiVersion,
        });
}

using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Oci;
using Crisp.Runtime.State;

namespace Crisp.Runtime;

public sealed partial class ContainerRuntime
{
    /// <summary>The kubelet (and crictl) refuse a CRI response over 16 MiB, whatever crisp itself would send.</summary>
    private const long KubeletMaxResponseBytes = 16 * 1024 * 1024;

    /// <summary>
    /// stdout and stderr together are held to this many bytes, so that the whole response fits in one gRPC message
    /// both crisp (grpc.max_message_bytes) and the kubelet accept; past it the output is truncated with a marker.
    /// </summary>
    internal int ExecSyncOutputBudget => Handlers.ExecSyncOutput.BudgetFor(Math.Min(_options.MaxResponseBytes, KubeletMaxResponseBytes));

    public async Task<ExecSyncResponse> ExecSyncAsync(ExecSyncRequest request, CancellationToken cancellationToken)
    {
        var record = RequireContainer(request.ContainerId);
        if (request.Cmd.Count == 0) throw RuntimeException.InvalidField("cmd", "must not be empty");
        if (request.Timeout < 0) throw RuntimeException.InvalidField("timeout", $"{request.Timeout} must not be negative");
        if (record.Phase != ContainerPhase.Running)
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition,
                $"container {record.Id} is {record.Phase}; exec needs a running container");
        // timeout 0 means "no timeout" in CRI.
        var timeout = request.Timeout == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(request.Timeout);
        var result = await HandlerOf(record.RuntimeHandler)
            .ExecSyncAsync(record.Id, request.Cmd.ToList(), timeout, ExecSyncOutputBudget, cancellationToken);
        // The command is not named: its arguments can carry secrets, and refusals are logged at information level.
        if (result.TimedOut)
            throw new RuntimeException(RuntimeErrorKind.DeadlineExceeded,
                $"exec in container {record.Id} timed out after {request.Timeout}s");
        // The arrays are this call's own: wrapping them spares a copy of up to 16 MiB.
        return new ExecSyncResponse
        {
            ExitCode = result.ExitCode,
            Stdout = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(result.Stdout),
            Stderr = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(result.Stderr),
        };
    }

    public async Task ReopenContainerLogAsync(ReopenContainerLogRequest request, CancellationToken cancellationToken)
    {
        var record = RequireContainer(request.ContainerId);
        if (record.Phase != ContainerPhase.Running)
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition,
                $"container {record.Id} is {record.Phase}; only a running container's log can be reopened");
        // Returns once conmon has created the new file, so the kubelet can rely on it right after the call.
        if (string.IsNullOrEmpty(record.LogPath))
            await HandlerOf(record.RuntimeHandler).ReopenLogAsync(record.Id, cancellationToken);
        else
            await HandlerOf(record.RuntimeHandler).ReopenLogAsync(record.Id, record.LogPath, cancellationToken);
    }

    /// <summary>Applies new resources to the live container cgroup (runc update) and records them.</summary>
    public async Task UpdateContainerResourcesAsync(UpdateContainerResourcesRequest request, CancellationToken cancellationToken)
    {
        var record = RequireContainer(request.ContainerId);
        var resources = request.Linux ?? throw RuntimeException.InvalidField("linux", "must be set (only Linux resources are supported)");
        ContainerConfigValidator.ValidateResources(resources, "linux");
        using (await _locks.AcquireAsync(record.Id, cancellationToken))
        {
            if (record.Phase is ContainerPhase.Running or ContainerPhase.Created)
            {
                var json = System.Text.Json.JsonSerializer.Serialize(
                    SpecResources.Build(resources, _host, deviceRules: []), OciJsonContext.Default.OciResources);
                await HandlerOf(record.RuntimeHandler).UpdateResourcesAsync(record.Id, json, cancellationToken);
            }
            else if (record.Phase != ContainerPhase.Exited)
            {
                throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"container {record.Id} is {record.Phase}");
            }
            record.Resources = resources.Clone();
            await _store.SaveAsync(record, CancellationToken.None);
        }
    }

    /// <summary>Applies the pod's new overhead + resources to its pod-level cgroup.</summary>
    public async Task UpdatePodSandboxResourcesAsync(UpdatePodSandboxResourcesRequest request, CancellationToken cancellationToken)
    {
        var sandbox = RequireSandbox(request.PodSandboxId);
        var resources = request.Resources ?? throw RuntimeException.InvalidField("resources", "must be set");
        ContainerConfigValidator.ValidateResources(resources, "resources");
        ContainerConfigValidator.ValidateResources(request.Overhead, "overhead");
        using (await _locks.AcquireAsync(sandbox.Id, cancellationToken))
        {
            if (sandbox.Phase != SandboxPhase.Ready)
                throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"pod sandbox {sandbox.Id} is not ready");
            await _cgroups.ApplyResourcesAsync(sandbox.CgroupParent, resources, cancellationToken);
            sandbox.Config.Linux ??= new LinuxPodSandboxConfig();
            sandbox.Config.Linux.Resources = resources.Clone();
            if (request.Overhead is not null) sandbox.Config.Linux.Overhead = request.Overhead.Clone();
            await _store.SaveAsync(sandbox, CancellationToken.None);
        }
    }
}

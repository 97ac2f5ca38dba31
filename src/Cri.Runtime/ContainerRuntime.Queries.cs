using System.Text.Json;
using System.Text.Json.Nodes;
using Crisp.Cri.V1;
using Crisp.Runtime.Containers;
using Crisp.Runtime.Sandboxes;
using Crisp.Runtime.State;

namespace Crisp.Runtime;

public sealed partial class ContainerRuntime
{
    public PodSandboxStatusResponse PodSandboxStatus(PodSandboxStatusRequest request)
    {
        var sandbox = RequireSandbox(request.PodSandboxId);
        var response = new PodSandboxStatusResponse
        {
            Status = SandboxStatusBuilder.Status(sandbox),
            Timestamp = UnixNanos.Now(),
        };
        response.ContainersStatuses.Add(_store.ContainersOf(sandbox.Id)
            .Where(ContainerFilters.IsVisible)
            .OrderBy(c => c.CreatedAtNanos)
            .Select(ContainerStatusBuilder.Status));
        if (request.Verbose) response.Info["info"] = SandboxVerboseInfo(sandbox);
        return response;
    }

    private static string SandboxVerboseInfo(SandboxRecord sandbox)
    {
        var info = new JsonObject
        {
            ["id"] = sandbox.Id,
            ["phase"] = sandbox.Phase.ToString(),
            ["runtimeHandler"] = sandbox.RuntimeHandler,
            ["cgroupParent"] = sandbox.CgroupParent,
            ["namespaces"] = new JsonObject
            {
                ["network"] = sandbox.NetworkNamespacePath,
                ["ipc"] = sandbox.IpcNamespacePath,
                ["uts"] = sandbox.UtsNamespacePath,
                ["pid"] = sandbox.PidNamespacePath,
            },
            ["hostnamePath"] = sandbox.HostnamePath,
            ["hostsPath"] = sandbox.HostsPath,
            ["resolvConfPath"] = sandbox.ResolvConfPath,
            ["shmPath"] = sandbox.ShmPath,
            ["config"] = JsonNode.Parse(Google.Protobuf.JsonFormatter.Default.Format(sandbox.Config)),
        };
        return info.ToJsonString();
    }

    public IReadOnlyList<PodSandbox> ListPodSandboxes(PodSandboxFilter? filter) =>
        _store.Sandboxes
            .Where(SandboxFilters.IsVisible)
            .Where(s => SandboxFilters.Matches(filter, s))
            .OrderBy(s => s.CreatedAtNanos)
            .Select(SandboxStatusBuilder.Summary)
            .ToList();

    public ContainerStatusResponse ContainerStatus(ContainerStatusRequest request)
    {
        var record = RequireContainer(request.ContainerId);
        var response = new ContainerStatusResponse { Status = ContainerStatusBuilder.Status(record) };
        if (request.Verbose) response.Info["info"] = ContainerVerboseInfo(record);
        return response;
    }

    private static string ContainerVerboseInfo(ContainerRecord record)
    {
        var info = new JsonObject
        {
            ["sandboxID"] = record.SandboxId,
            ["pid"] = record.Phase == ContainerPhase.Running ? record.Pid : 0,
            ["phase"] = record.Phase.ToString(),
            ["runtimeHandler"] = record.RuntimeHandler,
            ["bundle"] = record.BundleDirectory,
            ["rootfs"] = record.RootfsPath,
            ["cgroupsPath"] = record.CgroupsPath,
            ["stopSignal"] = record.StopSignal,
            ["user"] = record.User is null ? null : JsonSerializer.SerializeToNode(record.User),
            ["config"] = JsonNode.Parse(Google.Protobuf.JsonFormatter.Default.Format(record.Config)),
            ["runtimeSpec"] = string.IsNullOrEmpty(record.SpecJson) ? null : JsonNode.Parse(record.SpecJson),
        };
        return info.ToJsonString();
    }

    public IReadOnlyList<Container> ListContainers(ContainerFilter? filter) =>
        _store.Containers
            .Where(ContainerFilters.IsVisible)
            .Where(c => ContainerFilters.Matches(filter, c))
            .OrderBy(c => c.CreatedAtNanos)
            .Select(ContainerStatusBuilder.Summary)
            .ToList();
}

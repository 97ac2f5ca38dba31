using System.Text.Json.Nodes;
using Crisp.Cri.V1;
using Crisp.Runtime.Containers;
using Crisp.Runtime.State;

namespace Crisp.Runtime.Sandboxes;

/// <summary>PodSandboxStatus and ListPodSandbox, read from the records.</summary>
public sealed class SandboxQueries(IStateStore store)
{
    public PodSandboxStatusResponse PodSandboxStatus(PodSandboxStatusRequest request)
    {
        var sandbox = store.RequireSandbox(request.PodSandboxId);
        var response = new PodSandboxStatusResponse
        {
            Status = SandboxStatusBuilder.Status(sandbox),
            Timestamp = UnixNanos.Now(),
        };
        response.ContainersStatuses.Add(store.ContainersOf(sandbox.Id)
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
                ["user"] = sandbox.UserNamespacePath,
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
        store.Sandboxes
            .Where(SandboxFilters.IsVisible)
            .Where(s => SandboxFilters.Matches(filter, s))
            .OrderBy(s => s.CreatedAtNanos)
            .Select(SandboxStatusBuilder.Summary)
            .ToList();
}

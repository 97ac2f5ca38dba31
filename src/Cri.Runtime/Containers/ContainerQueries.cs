using System.Text.Json;
using System.Text.Json.Nodes;
using Crisp.Cri.V1;
using Crisp.Runtime.State;

namespace Crisp.Runtime.Containers;

/// <summary>ContainerStatus and ListContainers, read from the records.</summary>
public sealed class ContainerQueries(IStateStore store)
{
    public ContainerStatusResponse ContainerStatus(ContainerStatusRequest request)
    {
        var record = store.RequireContainer(request.ContainerId);
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
            ["user"] = record.User is null ? null : JsonSerializer.SerializeToNode(record.User, StateJsonContext.Default.ResolvedUser),
            ["config"] = JsonNode.Parse(Google.Protobuf.JsonFormatter.Default.Format(record.Config)),
            ["runtimeSpec"] = string.IsNullOrEmpty(record.SpecJson) ? null : JsonNode.Parse(record.SpecJson),
        };
        return info.ToJsonString();
    }

    public IReadOnlyList<Container> ListContainers(ContainerFilter? filter) =>
        store.Containers
            .Where(ContainerFilters.IsVisible)
            .Where(c => ContainerFilters.Matches(filter, c))
            .OrderBy(c => c.CreatedAtNanos)
            .Select(ContainerStatusBuilder.Summary)
            .ToList();
}

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
            ["rootfs"] = VisibleRootfs(record),
            ["writableLayer"] = record.UpperPath,
            ["cgroupsPath"] = record.CgroupsPath,
            ["stopSignal"] = record.StopSignal,
            ["user"] = record.User is null ? null : JsonSerializer.SerializeToNode(record.User, StateJsonContext.Default.ResolvedUser),
            ["config"] = JsonNode.Parse(Google.Protobuf.JsonFormatter.Default.Format(record.Config)),
            ["runtimeSpec"] = string.IsNullOrEmpty(record.SpecJson) ? null : JsonNode.Parse(record.SpecJson),
        };
        return info.ToJsonString();
    }

    /// <summary>
    /// Where an operator sees the container's root filesystem: once runc created the container the host lets go of its
    /// copy of the overlay (ContainerCreator.DetachHostMountsAsync) and only the init's /proc root shows it; none once
    /// the container has exited.
    /// </summary>
    private static string? VisibleRootfs(ContainerRecord record) => record switch
    {
        { RootfsMounted: true } => record.RootfsPath,
        { Phase: ContainerPhase.Created or ContainerPhase.Running, Pid: > 0 } => $"/proc/{record.Pid}/root",
        _ => null,
    };

    public IReadOnlyList<Container> ListContainers(ContainerFilter? filter) =>
        store.Containers
            .Where(ContainerFilters.IsVisible)
            .Where(c => ContainerFilters.Matches(filter, c))
            .OrderBy(c => c.CreatedAtNanos)
            .Select(ContainerStatusBuilder.Summary)
            .ToList();
}

using Crisp.Cri.V1;
using Crisp.Runtime.State;

namespace Crisp.Runtime.Containers;

/// <summary>ListContainers / ListContainerStats filters: id or id prefix, state, pod id or prefix, labels.</summary>
public static class ContainerFilters
{
    public static bool Matches(ContainerFilter? filter, ContainerRecord record) =>
        filter is null
        || (IdMatches(filter.Id, record.Id)
            && (filter.State is null || filter.State.State == record.CriState)
            && IdMatches(filter.PodSandboxId, record.SandboxId)
            && LabelSelector.Matches(filter.LabelSelector, record.Config.Labels));

    public static bool Matches(ContainerStatsFilter? filter, ContainerRecord record) =>
        filter is null
        || (IdMatches(filter.Id, record.Id)
            && IdMatches(filter.PodSandboxId, record.SandboxId)
            && LabelSelector.Matches(filter.LabelSelector, record.Config.Labels));

    /// <summary>crictl passes truncated ids; an empty filter matches everything.</summary>
    public static bool IdMatches(string? filterId, string id) =>
        string.IsNullOrEmpty(filterId) || id.StartsWith(filterId, StringComparison.Ordinal);

    /// <summary>Records the kubelet may see: half-created and half-removed containers are not listed.</summary>
    public static bool IsVisible(ContainerRecord record) =>
        record.Phase is ContainerPhase.Created or ContainerPhase.Running or ContainerPhase.Exited;
}

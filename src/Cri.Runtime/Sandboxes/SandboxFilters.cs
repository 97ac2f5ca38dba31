using Crisp.Cri.V1;
using Crisp.Runtime.Containers;
using Crisp.Runtime.State;

namespace Crisp.Runtime.Sandboxes;

/// <summary>ListPodSandbox / ListPodSandboxStats filters: id or id prefix, state, labels.</summary>
public static class SandboxFilters
{
    public static bool Matches(PodSandboxFilter? filter, SandboxRecord record) =>
        filter is null
        || (ContainerFilters.IdMatches(filter.Id, record.Id)
            && (filter.State is null || filter.State.State == SandboxStatusBuilder.StateOf(record))
            && LabelSelector.Matches(filter.LabelSelector, record.Config.Labels));

    public static bool Matches(PodSandboxStatsFilter? filter, SandboxRecord record) =>
        filter is null
        || (ContainerFilters.IdMatches(filter.Id, record.Id)
            && LabelSelector.Matches(filter.LabelSelector, record.Config.Labels));

    public static bool IsVisible(SandboxRecord record) =>
        record.Phase is SandboxPhase.Ready or SandboxPhase.NotReady;
}

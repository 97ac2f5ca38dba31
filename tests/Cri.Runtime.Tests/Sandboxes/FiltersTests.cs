using Xunit;
using Crisp.Cri.V1;
using Crisp.Runtime.Containers;
using Crisp.Runtime.Sandboxes;
using Crisp.Runtime.State;

namespace Crisp.Runtime.Tests.Sandboxes;

public sealed class FiltersTests
{
    private static SandboxRecord Sandbox(string id, SandboxPhase phase, string app) => new()
    {
        Id = id,
        Config = new PodSandboxConfig { Metadata = new PodSandboxMetadata { Name = app, Namespace = "ns", Uid = id }, Labels = { ["app"] = app } },
        RuntimeHandler = "runc",
        CreatedAtNanos = 1,
        Phase = phase,
        Directory = "/d",
        StateDirectory = "/s",
    };

    private static ContainerRecord Container(string id, string sandbox, ContainerPhase phase, string app) => new()
    {
        Id = id,
        SandboxId = sandbox,
        Config = new ContainerConfig { Metadata = new ContainerMetadata { Name = app }, Labels = { ["app"] = app } },
        RuntimeHandler = "runc",
        CreatedAtNanos = 1,
        Phase = phase,
        ImageId = "sha256:1",
        ImageName = "i",
        ImageRef = "sha256:1",
        Directory = "/d",
        BundleDirectory = "/b",
    };

    [Fact]
    public void Sandbox_filter_by_id_prefix_state_and_labels()
    {
        var ready = Sandbox("aaaa1111", SandboxPhase.Ready, "web");
        var stopped = Sandbox("bbbb2222", SandboxPhase.NotReady, "db");
        Assert.True(SandboxFilters.Matches((PodSandboxFilter?)null, ready));
        Assert.True(SandboxFilters.Matches(new PodSandboxFilter { Id = "aaaa" }, ready));
        Assert.False(SandboxFilters.Matches(new PodSandboxFilter { Id = "aaaa" }, stopped));
        var readyOnly = new PodSandboxFilter { State = new PodSandboxStateValue { State = PodSandboxState.SandboxReady } };
        Assert.True(SandboxFilters.Matches(readyOnly, ready));
        Assert.False(SandboxFilters.Matches(readyOnly, stopped));
        var notReady = new PodSandboxFilter { State = new PodSandboxStateValue { State = PodSandboxState.SandboxNotready } };
        Assert.True(SandboxFilters.Matches(notReady, stopped));
        Assert.True(SandboxFilters.Matches(new PodSandboxFilter { LabelSelector = { ["app"] = "db" } }, stopped));
        Assert.False(SandboxFilters.Matches(new PodSandboxFilter { LabelSelector = { ["app"] = "db" } }, ready));
    }

    [Fact]
    public void Half_created_or_removing_records_are_not_listed()
    {
        Assert.False(SandboxFilters.IsVisible(Sandbox("a", SandboxPhase.Creating, "x")));
        Assert.False(SandboxFilters.IsVisible(Sandbox("a", SandboxPhase.Removing, "x")));
        Assert.False(ContainerFilters.IsVisible(Container("c", "a", ContainerPhase.Creating, "x")));
        Assert.True(ContainerFilters.IsVisible(Container("c", "a", ContainerPhase.Exited, "x")));
    }

    [Fact]
    public void Container_filter_by_id_state_pod_and_labels()
    {
        var running = Container("c1abc", "pod1xyz", ContainerPhase.Running, "web");
        var exited = Container("c2def", "pod2xyz", ContainerPhase.Exited, "db");
        Assert.True(ContainerFilters.Matches(new ContainerFilter { Id = "c1" }, running));
        Assert.False(ContainerFilters.Matches(new ContainerFilter { Id = "c1" }, exited));
        Assert.True(ContainerFilters.Matches(new ContainerFilter { PodSandboxId = "pod2" }, exited));
        Assert.False(ContainerFilters.Matches(new ContainerFilter { PodSandboxId = "pod2" }, running));
        var runningOnly = new ContainerFilter { State = new ContainerStateValue { State = ContainerState.ContainerRunning } };
        Assert.True(ContainerFilters.Matches(runningOnly, running));
        Assert.False(ContainerFilters.Matches(runningOnly, exited));
        Assert.True(ContainerFilters.Matches(new ContainerFilter { LabelSelector = { ["app"] = "web" } }, running));
        Assert.False(ContainerFilters.Matches(new ContainerStatsFilter { LabelSelector = { ["app"] = "web" } }, exited));
        Assert.True(ContainerFilters.Matches(new ContainerStatsFilter { PodSandboxId = "pod1" }, running));
    }
}

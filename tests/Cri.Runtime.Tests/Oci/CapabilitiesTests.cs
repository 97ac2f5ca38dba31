using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Oci;
using Xunit;

namespace Crisp.Runtime.Tests.Oci;

public sealed class CapabilitiesTests
{
    private static LinuxContainerSecurityContext With(string[] add, string[] drop)
    {
        var caps = new Capability();
        caps.AddCapabilities.AddRange(add);
        caps.DropCapabilities.AddRange(drop);
        return new LinuxContainerSecurityContext { Capabilities = caps };
    }

    [Fact]
    public void DefaultSetIsContainerdsFourteen()
    {
        var caps = CapabilitiesBuilder.Build(null);
        Assert.Equal(14, caps.Bounding!.Count);
        Assert.Equal(DefaultCapabilities.Names, caps.Bounding);
        Assert.Equal(caps.Bounding, caps.Effective);
        Assert.Equal(caps.Bounding, caps.Permitted);
        Assert.Empty(caps.Ambient!);
        Assert.DoesNotContain("CAP_SYS_ADMIN", caps.Bounding);
    }

    [Fact]
    public void AddAndDropAcceptNamesWithOrWithoutPrefix()
    {
        var caps = CapabilitiesBuilder.Build(With(["NET_ADMIN", "cap_sys_time"], ["CAP_CHOWN", "kill"]));
        Assert.Contains("CAP_NET_ADMIN", caps.Bounding!);
        Assert.Contains("CAP_SYS_TIME", caps.Effective!);
        Assert.DoesNotContain("CAP_CHOWN", caps.Bounding!);
        Assert.DoesNotContain("CAP_KILL", caps.Permitted!);
    }

    [Fact]
    public void DropAllThenAdd()
    {
        var caps = CapabilitiesBuilder.Build(With(["NET_BIND_SERVICE"], ["ALL"]));
        Assert.Equal(["CAP_NET_BIND_SERVICE"], caps.Bounding);
    }

    [Fact]
    public void AddAllMinusDrop()
    {
        var caps = CapabilitiesBuilder.Build(With(["ALL"], ["CHOWN"]));
        Assert.Equal(DefaultCapabilities.AllKnown.Count - 1, caps.Bounding!.Count);
        Assert.DoesNotContain("CAP_CHOWN", caps.Bounding);
        Assert.Contains("CAP_SYS_ADMIN", caps.Bounding);
    }

    [Fact]
    public void PrivilegedGetsEverything()
    {
        var caps = CapabilitiesBuilder.Build(new LinuxContainerSecurityContext { Privileged = true, Capabilities = new Capability { DropCapabilities = { "ALL" } } });
        Assert.Equal(DefaultCapabilities.AllKnown, caps.Bounding);
    }

    [Fact]
    public void UnknownCapabilityNamesTheField()
    {
        var e = Assert.Throws<RuntimeException>(() => CapabilitiesBuilder.Build(With(["CHOWN", "FLY"], [])));
        Assert.Equal("config.linux.security_context.capabilities.add_capabilities[1]: unknown capability \"FLY\"", e.Message);
    }

    [Fact]
    public void AmbientCapabilitiesAreAlsoPermittedAndInheritable()
    {
        var sc = With([], []);
        sc.Capabilities.AddAmbientCapabilities.Add("NET_ADMIN");
        var caps = CapabilitiesBuilder.Build(sc);
        Assert.Equal(["CAP_NET_ADMIN"], caps.Ambient);
        Assert.Equal(["CAP_NET_ADMIN"], caps.Inheritable);
        Assert.Contains("CAP_NET_ADMIN", caps.Permitted!);
    }
}

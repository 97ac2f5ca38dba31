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
        var caps = CapabilitiesBuilder.Build(null, DefaultCapabilities.AllKnown);
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
        var caps = CapabilitiesBuilder.Build(With(["NET_ADMIN", "cap_sys_time"], ["CAP_CHOWN", "kill"]), DefaultCapabilities.AllKnown);
        Assert.Contains("CAP_NET_ADMIN", caps.Bounding!);
        Assert.Contains("CAP_SYS_TIME", caps.Effective!);
        Assert.DoesNotContain("CAP_CHOWN", caps.Bounding!);
        Assert.DoesNotContain("CAP_KILL", caps.Permitted!);
    }

    [Fact]
    public void DropAllThenAdd()
    {
        var caps = CapabilitiesBuilder.Build(With(["NET_BIND_SERVICE"], ["ALL"]), DefaultCapabilities.AllKnown);
        Assert.Equal(["CAP_NET_BIND_SERVICE"], caps.Bounding);
    }

    [Fact]
    public void AddAllMinusDrop()
    {
        var caps = CapabilitiesBuilder.Build(With(["ALL"], ["CHOWN"]), DefaultCapabilities.AllKnown);
        Assert.Equal(DefaultCapabilities.AllKnown.Count - 1, caps.Bounding!.Count);
        Assert.DoesNotContain("CAP_CHOWN", caps.Bounding);
        Assert.Contains("CAP_SYS_ADMIN", caps.Bounding);
    }

    [Fact]
    public void PrivilegedGetsEverything()
    {
        var caps = CapabilitiesBuilder.Build(new LinuxContainerSecurityContext { Privileged = true, Capabilities = new Capability { DropCapabilities = { "ALL" } } }, DefaultCapabilities.AllKnown);
        Assert.Equal(DefaultCapabilities.AllKnown, caps.Bounding);
    }

    [Fact]
    public void UnknownCapabilityNamesTheField()
    {
        var e = Assert.Throws<RuntimeException>(() => CapabilitiesBuilder.Build(With(["CHOWN", "FLY"], []), DefaultCapabilities.AllKnown));
        Assert.Equal("config.linux.security_context.capabilities.add_capabilities[1]: unknown capability \"FLY\"", e.Message);
    }

    [Fact]
    public void AmbientCapabilitiesAreAlsoPermittedAndInheritable()
    {
        var sc = With([], []);
        sc.Capabilities.AddAmbientCapabilities.Add("NET_ADMIN");
        var caps = CapabilitiesBuilder.Build(sc, DefaultCapabilities.AllKnown);
        Assert.Equal(["CAP_NET_ADMIN"], caps.Ambient);
        Assert.Equal(["CAP_NET_ADMIN"], caps.Inheritable);
        Assert.Contains("CAP_NET_ADMIN", caps.Permitted!);
    }

    [Fact]
    public void AllAndPrivilegedAreLimitedToWhatTheHostHolds()
    {
        IReadOnlyList<string> host = [.. DefaultCapabilities.AllKnown.Where(c => c != "CAP_SYS_RESOURCE")];
        Assert.DoesNotContain("CAP_SYS_RESOURCE", CapabilitiesBuilder.Build(With(["ALL"], []), host).Bounding!);
        Assert.DoesNotContain("CAP_SYS_RESOURCE", CapabilitiesBuilder.Build(new LinuxContainerSecurityContext { Privileged = true }, host).Bounding!);
        var e = Assert.Throws<RuntimeException>(() => CapabilitiesBuilder.Build(With(["SYS_RESOURCE"], []), host));
        Assert.StartsWith("config.linux.security_context.capabilities.add_capabilities[0]:", e.Message);
    }

    [Fact]
    public void HostMaskDecodesInBitOrder()
    {
        Assert.Equal(["CAP_CHOWN", "CAP_KILL", "CAP_SYS_ADMIN"], HostCapabilities.FromMask((1ul << 0) | (1ul << 5) | (1ul << 21)));
        Assert.Equal(DefaultCapabilities.AllKnown.Count - 1, HostCapabilities.FromMask(0x000001fffeffffff).Count);
    }
}

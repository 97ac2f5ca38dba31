using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Namespaces;
using Xunit;

namespace Crisp.Runtime.Tests.Namespaces;

public sealed class UserNamespaceMappingsTests
{
    private const string Field = "config.linux.security_context.namespace_options.userns_options";

    internal static UserNamespace Pod(uint hostId = 65536 * 3, uint length = 65536, uint containerId = 0) => new()
    {
        Mode = NamespaceMode.Pod,
        Uids = { new IDMapping { ContainerId = containerId, HostId = hostId, Length = length } },
        Gids = { new IDMapping { ContainerId = containerId, HostId = hostId, Length = length } },
    };

    private static string Refused(UserNamespace options)
    {
        var e = Assert.Throws<RuntimeException>(() => UserNamespaceMappings.FromPod(options));
        Assert.Equal(RuntimeErrorKind.InvalidArgument, e.Kind);
        return e.Message;
    }

    [Fact]
    public void The_kubelets_mapping_is_taken_as_sent()
    {
        var mappings = UserNamespaceMappings.FromPod(Pod())!;
        Assert.Equal(new IdRange(0, 196608, 65536), mappings.Uid);
        Assert.Equal(196608u, mappings.HostRootUid);
        Assert.Equal("0 196608 65536\n", mappings.UidMapText);
        var oci = Assert.Single(mappings.OciGidMappings());
        Assert.Equal((0u, 196608u, 65536u), (oci.ContainerId, oci.HostId, oci.Size));
    }

    [Fact]
    public void Critests_low_host_range_is_accepted()
    {
        // critest maps container 0 to host 1000 (length 100000); containerd and CRI-O accept it.
        Assert.NotNull(UserNamespaceMappings.FromPod(Pod(hostId: 1000, length: 100000)));
    }

    [Fact]
    public void Node_mode_or_no_options_is_the_hosts_user_namespace()
    {
        Assert.Null(UserNamespaceMappings.FromPod(null));
        Assert.Null(UserNamespaceMappings.FromPod(new UserNamespace { Mode = NamespaceMode.Node }));
    }

    [Fact]
    public void Node_mode_with_mappings_is_refused()
    {
        var options = Pod();
        options.Mode = NamespaceMode.Node;
        Assert.StartsWith(Field + ".uids:", Refused(options));
    }

    [Theory]
    [InlineData(NamespaceMode.Container)]
    [InlineData(NamespaceMode.Target)]
    public void Container_and_target_modes_are_refused_naming_the_mode(NamespaceMode mode)
    {
        var message = Refused(new UserNamespace { Mode = mode });
        Assert.StartsWith(Field + ".mode:", message);
        Assert.Contains(mode.ToString(), message);
    }

    [Fact]
    public void Several_ranges_are_refused()
    {
        var options = Pod(hostId: 1000, length: 100000);
        options.Uids.Add(new IDMapping { ContainerId = 0, HostId = 2000, Length = 100000 });
        Assert.StartsWith(Field + ".uids:", Refused(options));
    }

    [Fact]
    public void Missing_gid_mapping_is_refused()
    {
        var options = Pod();
        options.Gids.Clear();
        Assert.StartsWith(Field + ".gids:", Refused(options));
    }

    [Fact]
    public void Container_root_must_be_mapped()
    {
        Assert.StartsWith(Field + ".uids[0].container_id:", Refused(Pod(containerId: 1)));
    }

    [Fact]
    public void Host_root_may_not_be_mapped()
    {
        Assert.StartsWith(Field + ".uids[0].host_id:", Refused(Pod(hostId: 0)));
    }

    [Fact]
    public void Empty_and_overflowing_ranges_are_refused()
    {
        Assert.StartsWith(Field + ".uids[0].length:", Refused(Pod(length: 0)));
        Assert.StartsWith(Field + ".uids[0]:", Refused(Pod(hostId: uint.MaxValue - 10, length: 65536)));
    }

    [Fact]
    public void A_mount_matches_only_the_same_single_ranges()
    {
        var mappings = UserNamespaceMappings.FromPod(Pod())!;
        var same = Pod();
        Assert.True(mappings.Matches(same.Uids, same.Gids));
        var other = Pod(hostId: 65536 * 4);
        Assert.False(mappings.Matches(other.Uids, same.Gids));
        Assert.False(mappings.Matches(same.Uids, other.Gids));
    }
}

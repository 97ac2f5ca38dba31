using Xunit;

namespace Crisp.E2E.Cluster;

/// <summary>hostUsers: false: the kubelet asks crisp for a pod user namespace; root in the pod is not root on the node.</summary>
[Collection(ClusterCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class UserNamespaceTests(ClusterFixture cluster)
{
    [SkippableFact]
    public async Task A_hostUsers_false_pod_runs_with_its_root_mapped_to_an_unprivileged_host_range()
    {
        Skip.If(cluster.SkipReason is not null, cluster.SkipReason);
        var spec = cluster.Pods.Pod("userns", ClusterPods.Shell("main", "exec sleep 3600"));
        spec.Spec.HostUsers = false;

        var created = await cluster.Pods.CreateAsync(spec);
        Skip.If(created.Spec.HostUsers is null,
            "the API server dropped spec.hostUsers: the UserNamespacesSupport feature gate is off on this cluster");
        await cluster.Pods.WaitAsync(created.Metadata.Name, "running", p => p.Status?.ContainerStatuses?.All(c => c.State?.Running is not null) == true);

        var (exitCode, uidMap, _) = await cluster.Pods.ExecAsync(created.Metadata.Name, "main", "cat", "/proc/self/uid_map");

        Assert.Equal(0, exitCode);
        var fields = uidMap.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToArray();
        Assert.True(fields.Length == 3, $"one uid_map line expected: {uidMap}");
        Assert.Equal(0, fields[0]);
        Assert.NotEqual(0, fields[1]);
        Assert.Equal(65536, fields[2]);
    }
}

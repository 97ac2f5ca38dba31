using Crisp.Cri.V1;
using Crisp.E2E.Fixtures;
using Crisp.E2E.Runtime;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.UserNamespaces;

/// <summary>What the kubelet learns from Status, what it may not ask for, and a pod user namespace sharing its PID namespace.</summary>
[Collection(RuntimeCollection.Name)]
public sealed class UserNamespaceRequestTests(RuntimeFixture fixture)
{
    private const string Field = "config.linux.security_context.namespace_options.userns_options";
    private PodHelper Pods => fixture.Pods;

    [Fact]
    public async Task Status_reports_user_namespaces_for_the_default_and_runc_handlers()
    {
        var status = await fixture.Runtime.StatusAsync(new StatusRequest());
        foreach (var name in new[] { "", "runc" })
            Assert.True(status.RuntimeHandlers.Single(h => h.Name == name).Features.UserNamespaces, $"handler \"{name}\"");
    }

    public static TheoryData<string, string> BadRequests => new()
    {
        { "several-ranges", Field + ".uids" },
        { "root-unmapped", Field + ".uids[0].container_id" },
        { "host-root", Field + ".uids[0].host_id" },
        { "mode-container", Field + ".mode" },
        { "mode-target", Field + ".mode" },
        { "bad-gids", Field + ".gids" },
        { "host-network", "config.linux.security_context.namespace_options.network" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_user_namespace_requests_are_invalid_arguments_naming_the_field_and_create_nothing(string kind, string field)
    {
        var name = "userns-bad-" + kind;
        var config = Pods.PodConfig(name, p =>
        {
            var options = p.Linux.SecurityContext.NamespaceOptions;
            options.UsernsOptions = UserNamespacePodTests.PodMapping(65536 * 7);
            switch (kind)
            {
                case "several-ranges":
                    options.UsernsOptions.Uids.Add(new IDMapping { ContainerId = 0, HostId = 65536 * 8, Length = 65536 });
                    break;
                case "root-unmapped":
                    options.UsernsOptions.Uids[0].ContainerId = 1;
                    break;
                case "host-root":
                    options.UsernsOptions.Uids[0].HostId = 0;
                    break;
                case "mode-container":
                    options.UsernsOptions = new UserNamespace { Mode = NamespaceMode.Container };
                    break;
                case "mode-target":
                    options.UsernsOptions = new UserNamespace { Mode = NamespaceMode.Target };
                    break;
                case "bad-gids":
                    options.UsernsOptions.Gids.Clear();
                    break;
                case "host-network":
                    options.Network = NamespaceMode.Node;
                    break;
            }
        });
        var nsDir = Path.Combine(fixture.Daemon.StateDirectory, "ns");
        var pinnedBefore = Directory.Exists(nsDir) ? Directory.GetDirectories(nsDir).Length : 0;

        var ex = await Assert.ThrowsAsync<RpcException>(() => fixture.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.StartsWith(field + ":", ex.Status.Detail);
        Assert.DoesNotContain((await fixture.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items, p => p.Metadata.Name == name);
        Assert.Equal(pinnedBefore, Directory.Exists(nsDir) ? Directory.GetDirectories(nsDir).Length : 0);
    }

    [Fact]
    public async Task Idmapped_volumes_need_the_pods_own_mappings_and_a_refused_one_leaves_nothing()
    {
        File.SetUnixFileMode(fixture.Daemon.BaseDirectory, (UnixFileMode)0b111_001_001);
        var volume = Directory.CreateTempSubdirectory("crisp-e2e-userns-vol-").FullName;
        var (plainId, plain) = await Pods.RunPodAsync("userns-plain");
        var (usernsId, userns) = await Pods.RunPodAsync("userns-vol", p =>
            p.Linux.SecurityContext.NamespaceOptions.UsernsOptions = UserNamespacePodTests.PodMapping(65536 * 11));
        var containersDir = Path.Combine(fixture.Daemon.RootDirectory, "containers");
        var before = Directory.GetDirectories(containersDir).Length;
        try
        {
            async Task RefusedAsync(string podId, PodSandboxConfig pod, uint mappedHostId, string reason)
            {
                var other = UserNamespacePodTests.PodMapping(mappedHostId);
                var config = await Pods.ContainerConfigAsync("vol", TestImageNames.Busybox, ["true"], c =>
                    c.Mounts.Add(new Mount { ContainerPath = "/data", HostPath = volume, UidMappings = { other.Uids }, GidMappings = { other.Gids } }));
                var ex = await Assert.ThrowsAsync<RpcException>(() => Pods.CreateAsync(podId, pod, config));
                Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
                Assert.StartsWith("config.mounts[0].uidMappings:", ex.Status.Detail);
                Assert.Contains(reason, ex.Status.Detail);
            }
            await RefusedAsync(usernsId, userns, 65536 * 12, "the pod's user namespace mappings");
            await RefusedAsync(plainId, plain, 65536 * 11, "a pod with its own user namespace");

            Assert.Equal(before, Directory.GetDirectories(containersDir).Length);
            Assert.Empty((await fixture.Runtime.ListContainersAsync(new ListContainersRequest
            {
                Filter = new ContainerFilter { PodSandboxId = usernsId },
            })).Containers);
            Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), l => l.Contains("idmapped-mounts"));
        }
        finally
        {
            foreach (var id in new[] { plainId, usernsId })
            {
                await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = id });
                await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = id });
            }
            Directory.Delete(volume, recursive: true);
        }
    }

    [Fact]
    public async Task A_pod_user_namespace_can_share_one_pid_namespace_owned_by_it()
    {
        File.SetUnixFileMode(fixture.Daemon.BaseDirectory, (UnixFileMode)0b111_001_001);
        var hostId = 65536u * (uint)Random.Shared.Next(1000, 2000);
        var (podId, pod) = await Pods.RunPodAsync("userns-sharedpid", p =>
        {
            p.Linux.SecurityContext.NamespaceOptions.Pid = NamespaceMode.Pod;
            p.Linux.SecurityContext.NamespaceOptions.UsernsOptions = UserNamespacePodTests.PodMapping(hostId);
        });
        try
        {
            var pinned = Path.Combine(fixture.Daemon.StateDirectory, "ns", podId);
            // /proc is mounted by the container's root, which works only when its user namespace owns the PID namespace.
            var (status, stdout, stderr) = await Pods.RunToExitAsync(podId, pod, "ps", TestImageNames.Busybox,
                ["sh", "-c", "cat /proc/self/uid_map; ps -o pid,args"], c =>
                    c.Linux = new LinuxContainerConfig
                    {
                        SecurityContext = new LinuxContainerSecurityContext { NamespaceOptions = pod.Linux.SecurityContext.NamespaceOptions.Clone() },
                    });
            Assert.True(status.ExitCode == 0, $"exit {status.ExitCode}: {stderr}");
            Assert.Contains($"0 {hostId} 65536", string.Join(' ', stdout.Split(' ', StringSplitOptions.RemoveEmptyEntries)));
            // pid 1 is the pod's holder (its idle child is named "pause"), not the container.
            Assert.Contains(stdout.Split('\n'), l => l.Trim().StartsWith("1 "));
            Assert.Contains("pause", stdout);
            Assert.True(File.Exists(Path.Combine(pinned, "user")) && File.Exists(Path.Combine(pinned, "pid")));
        }
        finally
        {
            await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
            await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        }
        Assert.False(Directory.Exists(Path.Combine(fixture.Daemon.StateDirectory, "ns", podId)));
    }
}

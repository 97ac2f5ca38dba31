using Crisp.Cri.V1;
using Crisp.E2E.Fixtures;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Runtime;

/// <summary>What the pod provides its containers: hostname, /etc files, /dev/shm, shared namespaces, sysctls, cgroup.</summary>
[Collection(RuntimeCollection.Name)]
public sealed class PodSandboxTests(RuntimeFixture fixture)
{
    private PodHelper Pods => fixture.Pods;

    private async Task RemovePodAsync(string podId)
    {
        await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
    }

    [Fact]
    public async Task Hostname_dns_hosts_and_shm_come_from_the_pod()
    {
        var (podId, pod) = await Pods.RunPodAsync("etcfiles", p =>
        {
            p.Hostname = "custom-host";
            p.DnsConfig = new DNSConfig { Servers = { "10.96.0.10" }, Searches = { "e2e.svc.cluster.local" }, Options = { "ndots:5" } };
        });
        var (status, stdout, _) = await Pods.RunToExitAsync(podId, pod, "etc", TestImageNames.Busybox,
            ["sh", "-c", "hostname; cat /etc/hostname; cat /etc/resolv.conf; grep custom-host /etc/hosts; df -k /dev/shm | tail -1"]);
        Assert.Equal(0, status.ExitCode);
        var lines = stdout.Split('\n');
        Assert.Equal("custom-host", lines[0]);
        Assert.Equal("custom-host", lines[1]);
        Assert.Contains("search e2e.svc.cluster.local", lines);
        Assert.Contains("nameserver 10.96.0.10", lines);
        Assert.Contains("options ndots:5", lines);
        Assert.Contains(lines, l => l.Contains("custom-host") && l.StartsWith("127.0.1.1"));
        Assert.Contains(" 65536 ", lines[^1]); // 64 MiB tmpfs
        await RemovePodAsync(podId);
    }

    [Fact]
    public async Task Containers_of_a_pod_share_ipc_and_shm_but_not_with_other_pods()
    {
        var (podId, pod) = await Pods.RunPodAsync("sharing");
        var writer = await Pods.StartAsync(podId, pod, "writer", TestImageNames.Busybox, ["sh", "-c", "echo shared > /dev/shm/marker; sleep 300"]);
        await Task.Delay(300);
        var (_, seen, _) = await Pods.RunToExitAsync(podId, pod, "reader", TestImageNames.Busybox, ["cat", "/dev/shm/marker"]);
        Assert.Equal("shared", seen);

        var (otherId, other) = await Pods.RunPodAsync("other");
        var (otherStatus, _, _) = await Pods.RunToExitAsync(otherId, other, "reader", TestImageNames.Busybox, ["cat", "/dev/shm/marker"]);
        Assert.NotEqual(0, otherStatus.ExitCode);
        await RemovePodAsync(otherId);
        await RemovePodAsync(podId);
        Assert.NotNull(writer);
    }

    [Fact]
    public async Task Shared_pid_namespace_lets_containers_see_each_other()
    {
        var (podId, pod) = await Pods.RunPodAsync("sharedpid", p => p.Linux.SecurityContext.NamespaceOptions.Pid = NamespaceMode.Pod);
        await Pods.StartAsync(podId, pod, "sleeper", TestImageNames.Busybox, ["sleep", "4242"]);
        await Task.Delay(300);
        var (_, ps, _) = await Pods.RunToExitAsync(podId, pod, "looker", TestImageNames.Busybox, ["ps", "-o", "args"]);
        Assert.Contains("sleep 4242", ps);

        var (privateId, privatePod) = await Pods.RunPodAsync("privatepid");
        await Pods.StartAsync(privateId, privatePod, "sleeper", TestImageNames.Busybox, ["sleep", "4243"]);
        var (_, own, _) = await Pods.RunToExitAsync(privateId, privatePod, "looker", TestImageNames.Busybox, ["ps", "-o", "args"]);
        Assert.DoesNotContain("sleep 4243", own);
        await RemovePodAsync(privateId);
        await RemovePodAsync(podId);
    }

    [Fact]
    public async Task Host_network_pods_see_the_node_interfaces_and_others_only_loopback()
    {
        var hostInterfaces = Directory.GetFileSystemEntries("/sys/class/net").Select(p => Path.GetFileName(p)!).Order().ToList();
        var (hostId, hostPod) = await Pods.RunPodAsync("hostnet", p => p.Linux.SecurityContext.NamespaceOptions.Network = NamespaceMode.Node);
        var (_, hostView, _) = await Pods.RunToExitAsync(hostId, hostPod, "ls", TestImageNames.Busybox, ["ls", "/sys/class/net"]);
        Assert.Equal(hostInterfaces, hostView.Split(new[] { ' ', '\n', '\t' }, StringSplitOptions.RemoveEmptyEntries).Order().ToList());
        await RemovePodAsync(hostId);

        var (podId, pod) = await Pods.RunPodAsync("podnet");
        var (_, podView, _) = await Pods.RunToExitAsync(podId, pod, "ls", TestImageNames.Busybox, ["sh", "-c", "ls /sys/class/net; cat /sys/class/net/lo/operstate"]);
        var words = podView.Split(new[] { ' ', '\n', '\t' }, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("lo", words[0]);
        Assert.Equal(2, words.Length);
        Assert.Equal("unknown", words[1]); // loopback that is up reports "unknown"
        await RemovePodAsync(podId);
    }

    [Fact]
    public async Task Namespaced_sysctls_are_applied_and_node_sysctls_refused()
    {
        var (podId, pod) = await Pods.RunPodAsync("sysctl", p => p.Linux.Sysctls["kernel.shm_rmid_forced"] = "1");
        var (_, value, _) = await Pods.RunToExitAsync(podId, pod, "read", TestImageNames.Busybox, ["cat", "/proc/sys/kernel/shm_rmid_forced"]);
        Assert.Equal("1", value);
        await RemovePodAsync(podId);

        var ex = await Assert.ThrowsAsync<RpcException>(() => Pods.RunPodAsync("badsysctl", p => p.Linux.Sysctls["vm.swappiness"] = "10"));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("vm.swappiness", ex.Status.Detail);
    }

    [Fact]
    public async Task Mounts_are_bind_mounted_with_their_propagation_and_reported()
    {
        // Host-to-container propagation needs a shared source: make the temp dir its own rshared mount.
        var source = Directory.CreateTempSubdirectory("crisp-e2e-mount-").FullName;
        await ToolRunner.RunCheckedAsync("mount", ["--bind", source, source]);
        try
        {
            await ToolRunner.RunCheckedAsync("mount", ["--make-rshared", source]);
            await File.WriteAllTextAsync(Path.Combine(source, "from-host"), "hello");
            Directory.CreateDirectory(Path.Combine(source, "later"));
            var (podId, pod) = await Pods.RunPodAsync("mounts");
            var id = await Pods.StartAsync(podId, pod, "user", TestImageNames.Busybox,
                ["sh", "-c", "cat /data/from-host; echo back > /data/from-container; sleep 300"], c =>
                {
                    c.Mounts.Add(new Mount { ContainerPath = "/data", HostPath = source, Propagation = MountPropagation.PropagationHostToContainer });
                    c.Mounts.Add(new Mount { ContainerPath = "/ro", HostPath = source, Readonly = true });
                    c.Mounts.Add(new Mount { ContainerPath = "/private", HostPath = source });
                });
            await LifecycleTests.WaitUntilAsync(() => File.Exists(Path.Combine(source, "from-container")));
            var status = await Pods.StatusAsync(id);
            Assert.Contains(status.Mounts, m => m.ContainerPath == "/data" && m.HostPath == source && m.Propagation == MountPropagation.PropagationHostToContainer);
            Assert.StartsWith("hello", PodHelper.LogText(await PodHelper.ReadLogAsync(status.LogPath)));

            // A mount made on the host after the start reaches the rslave mount only.
            await ToolRunner.RunCheckedAsync("mount", ["-t", "tmpfs", "-o", "size=1m", "crisp-e2e-later", Path.Combine(source, "later")]);
            await File.WriteAllTextAsync(Path.Combine(source, "later", "late-file"), "late");
            var slave = await Pods.ExecAsync(id, 5, "cat", "/data/later/late-file");
            Assert.Equal("late", PodHelper.Utf8(slave.Stdout));
            var isolated = await Pods.ExecAsync(id, 5, "cat", "/private/later/late-file");
            Assert.NotEqual(0, isolated.ExitCode);

            var ro = await Pods.ExecAsync(id, 5, "touch", "/ro/x");
            Assert.NotEqual(0, ro.ExitCode);
            await RemovePodAsync(podId);
        }
        finally
        {
            await ToolRunner.RunAsync("umount", ["-R", "-l", source]);
            Directory.Delete(source, recursive: true);
        }
    }
}

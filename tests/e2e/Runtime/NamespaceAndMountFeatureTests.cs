using Crisp.Cri.V1;
using Crisp.E2E.Fixtures;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Runtime;

/// <summary>Kubelet features that reach the OCI spec: `kubectl debug --target` (PID mode TARGET) and recursive read-only mounts.</summary>
[Collection(RuntimeCollection.Name)]
public sealed class NamespaceAndMountFeatureTests(RuntimeFixture fixture) : IAsyncLifetime
{
    private PodHelper Pods => fixture.Pods;
    private string _podId = "";
    private PodSandboxConfig _pod = new();
    private readonly List<string> _tempDirs = [];

    public async Task InitializeAsync() => (_podId, _pod) = await Pods.RunPodAsync("features-" + Guid.NewGuid().ToString("N")[..8]);

    public async Task DisposeAsync()
    {
        await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = _podId });
        await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = _podId });
        foreach (var dir in _tempDirs)
        {
            // The nested tmpfs of the rro test is unmounted before the tree goes.
            await ToolRunner.RunAsync("umount", ["-l", Path.Combine(dir, "nested")]);
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task An_ephemeral_container_with_pid_mode_target_sees_the_target_containers_processes()
    {
        var target = await Pods.StartAsync(_podId, _pod, "target", TestImageNames.Busybox, ["sh", "-c", "exec sleep 3600"]);
        var (status, stdout, _) = await Pods.RunToExitAsync(_podId, _pod, "debugger", TestImageNames.Busybox, ["ps", "-o", "pid,args"], c =>
            c.Linux = new LinuxContainerConfig
            {
                SecurityContext = new LinuxContainerSecurityContext
                {
                    NamespaceOptions = new NamespaceOption { Pid = NamespaceMode.Target, TargetId = target, Network = NamespaceMode.Pod, Ipc = NamespaceMode.Pod },
                },
            });
        Assert.Equal(0, status.ExitCode);
        // The target's init is pid 1 of the shared namespace.
        Assert.Contains(stdout.Split('\n'), line => line.Trim().StartsWith("1 ") && line.Contains("sleep 3600"));
    }

    [Fact]
    public async Task Pid_mode_target_naming_a_container_that_is_not_running_is_refused()
    {
        var config = await Pods.ContainerConfigAsync("orphan-debugger", TestImageNames.Busybox, ["true"], c =>
            c.Linux = new LinuxContainerConfig
            {
                SecurityContext = new LinuxContainerSecurityContext
                {
                    NamespaceOptions = new NamespaceOption { Pid = NamespaceMode.Target, TargetId = new string('d', 64) },
                },
            });
        var ex = await Assert.ThrowsAsync<RpcException>(() => Pods.CreateAsync(_podId, _pod, config));
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Contains("target_id", ex.Status.Detail);
    }

    [Fact]
    public async Task A_recursive_read_only_mount_makes_nested_mounts_read_only_too()
    {
        var source = Directory.CreateTempSubdirectory("crisp-e2e-rro-").FullName;
        _tempDirs.Add(source);
        var nested = Directory.CreateDirectory(Path.Combine(source, "nested")).FullName;
        await ToolRunner.RunCheckedAsync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", nested]);

        var (status, _, stderr) = await Pods.RunToExitAsync(_podId, _pod, "rro", TestImageNames.Busybox,
            ["sh", "-c", "touch /mnt/nested/file"], c => c.Mounts.Add(new Mount
            {
                ContainerPath = "/mnt",
                HostPath = source,
                Readonly = true,
                RecursiveReadOnly = true,
                Propagation = MountPropagation.PropagationPrivate,
            }));
        Assert.NotEqual(0, status.ExitCode);
        Assert.Contains("Read-only file system", stderr);

        // Plain readonly leaves the nested mount writable: the difference rro makes.
        var (plain, _, _) = await Pods.RunToExitAsync(_podId, _pod, "ro", TestImageNames.Busybox,
            ["sh", "-c", "touch /mnt/nested/file"], c => c.Mounts.Add(new Mount { ContainerPath = "/mnt", HostPath = source, Readonly = true }));
        Assert.Equal(0, plain.ExitCode);
    }

    [Fact]
    public async Task Recursive_read_only_without_readonly_is_invalid_naming_the_field()
    {
        var source = Directory.CreateTempSubdirectory("crisp-e2e-rro-").FullName;
        _tempDirs.Add(source);
        var config = await Pods.ContainerConfigAsync("rro-rw", TestImageNames.Busybox, ["true"], c =>
            c.Mounts.Add(new Mount { ContainerPath = "/mnt", HostPath = source, RecursiveReadOnly = true }));
        var ex = await Assert.ThrowsAsync<RpcException>(() => Pods.CreateAsync(_podId, _pod, config));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("recursive_read_only", ex.Status.Detail);
    }
}

using Crisp.Cri.V1;
using Crisp.E2E.Fixtures;
using Xunit;

namespace Crisp.E2E.Runtime;

/// <summary>What a container gets from its image and its CRI config: args, env, user, capabilities, seccomp, rootfs.</summary>
[Collection(RuntimeCollection.Name)]
public sealed class ContainerConfigTests(RuntimeFixture fixture) : IAsyncLifetime
{
    private PodHelper Pods => fixture.Pods;
    private string _podId = "";
    private PodSandboxConfig _pod = new();

    public async Task InitializeAsync() => (_podId, _pod) = await Pods.RunPodAsync("config-" + Guid.NewGuid().ToString("N")[..8]);

    public async Task DisposeAsync()
    {
        await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = _podId });
        await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = _podId });
    }

    private Task<(ContainerStatus Status, string Stdout, string Stderr)> RunAsync(string name, string image, IEnumerable<string>? command, Action<ContainerConfig>? configure = null) =>
        Pods.RunToExitAsync(_podId, _pod, name, image, command, configure);

    [Fact]
    public async Task Entrypoint_and_cmd_follow_the_kubernetes_override_rules()
    {
        Assert.Equal("entry cmd", (await RunAsync("default", TestImageNames.EntrypointCmd, null)).Stdout);
        Assert.Equal("entry x y", (await RunAsync("args", TestImageNames.EntrypointCmd, null, c => c.Args.Add(["x", "y"]))).Stdout);
        Assert.Equal("over", (await RunAsync("command", TestImageNames.EntrypointCmd, ["/bin/echo", "over"])).Stdout);
        Assert.Equal("over and out", (await RunAsync("both", TestImageNames.EntrypointCmd, ["/bin/echo", "over"], c => c.Args.Add(["and", "out"]))).Stdout);
    }

    [Fact]
    public async Task Env_merges_image_and_config_and_working_dir_comes_from_the_image()
    {
        var (status, stdout, _) = await RunAsync("env", TestImageNames.EnvWorkdir, ["sh", "-c", "pwd; echo \"$FOO|$GREETING|$EXTRA\"; cat marker.txt"], c =>
        {
            c.Envs.Add(new KeyValue { Key = "EXTRA", Value = Google.Protobuf.ByteString.CopyFromUtf8("from config") });
            c.Envs.Add(new KeyValue { Key = "FOO", Value = Google.Protobuf.ByteString.CopyFromUtf8("overridden") });
        });
        Assert.Equal(0, status.ExitCode);
        Assert.Equal("/work\noverridden|hello world|from config\nworkdir marker", stdout);

        var (_, other, _) = await RunAsync("workdir", TestImageNames.EnvWorkdir, ["pwd"], c => c.WorkingDir = "/tmp");
        Assert.Equal("/tmp", other);
    }

    [Fact]
    public async Task User_is_resolved_from_the_image_and_reported_in_status()
    {
        var (byName, idOut, _) = await RunAsync("byname", TestImageNames.UserName, null);
        Assert.StartsWith("uid=1000(app) gid=1000(app)", idOut);
        Assert.Contains("2000(extra)", idOut);
        Assert.Equal(1000, byName.User.Linux.Uid);
        Assert.Equal(1000, byName.User.Linux.Gid);
        Assert.Contains(2000L, byName.User.Linux.SupplementalGroups);

        var (_, uidGid, _) = await RunAsync("uidgid", TestImageNames.UserUidGid, null);
        Assert.StartsWith("uid=1000(app) gid=2000(extra)", uidGid);

        var (overridden, runAs, _) = await RunAsync("runas", TestImageNames.Busybox, ["id"], c => c.Linux = new LinuxContainerConfig
        {
            SecurityContext = new LinuxContainerSecurityContext
            {
                RunAsUser = new Int64Value { Value = 1001 },
                RunAsGroup = new Int64Value { Value = 10 },
                SupplementalGroups = { 3000 },
            },
        });
        Assert.StartsWith("uid=1001(other) gid=10(wheel)", runAs);
        Assert.Contains("3000", runAs);
        Assert.Equal(1001, overridden.User.Linux.Uid);

        var (_, username, _) = await RunAsync("runasname", TestImageNames.Busybox, ["id", "-u"], c => c.Linux = new LinuxContainerConfig
        {
            SecurityContext = new LinuxContainerSecurityContext { RunAsUsername = "app" },
        });
        Assert.Equal("1000", username);
    }

    private static ulong CapEff(string stdout)
    {
        var line = stdout.Split('\n').Single(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        return Convert.ToUInt64(line["CapEff:".Length..].Trim(), 16);
    }

    [Fact]
    public async Task Capabilities_are_the_default_set_with_add_and_drop()
    {
        const int NetAdmin = 12, NetRaw = 13, Chown = 0, SysAdmin = 21;
        var (_, defaults, _) = await RunAsync("capsdefault", TestImageNames.Busybox, ["grep", "Cap", "/proc/self/status"]);
        var caps = CapEff(defaults);
        Assert.NotEqual(0UL, caps & (1UL << Chown));
        Assert.Equal(0UL, caps & (1UL << NetAdmin));
        Assert.Equal(0UL, caps & (1UL << SysAdmin));

        var (_, added, _) = await RunAsync("capsadd", TestImageNames.Busybox, ["grep", "Cap", "/proc/self/status"], c => c.Linux = new LinuxContainerConfig
        {
            SecurityContext = new LinuxContainerSecurityContext { Capabilities = new Capability { AddCapabilities = { "NET_ADMIN" }, DropCapabilities = { "NET_RAW", "CHOWN" } } },
        });
        var changed = CapEff(added);
        Assert.NotEqual(0UL, changed & (1UL << NetAdmin));
        Assert.Equal(0UL, changed & (1UL << NetRaw));
        Assert.Equal(0UL, changed & (1UL << Chown));

        var (_, none, _) = await RunAsync("capsnone", TestImageNames.Busybox, ["grep", "Cap", "/proc/self/status"], c => c.Linux = new LinuxContainerConfig
        {
            SecurityContext = new LinuxContainerSecurityContext { Capabilities = new Capability { DropCapabilities = { "ALL" } } },
        });
        Assert.Equal(0UL, CapEff(none));
    }

    [Fact]
    public async Task Seccomp_runtime_default_blocks_user_namespace_creation_that_unconfined_allows()
    {
        // Creating a user namespace needs no capability from the kernel, but the default profile only allows
        // unshare/clone with namespace flags to holders of CAP_SYS_ADMIN.
        static void Profile(ContainerConfig c, SecurityProfile.Types.ProfileType type) => c.Linux = new LinuxContainerConfig
        {
            SecurityContext = new LinuxContainerSecurityContext { Seccomp = new SecurityProfile { ProfileType = type } },
        };
        var (confined, _, err) = await RunAsync("seccompdefault", TestImageNames.Busybox, ["unshare", "-U", "true"], c => Profile(c, SecurityProfile.Types.ProfileType.RuntimeDefault));
        Assert.NotEqual(0, confined.ExitCode);
        Assert.Contains("Operation not permitted", err);

        var (unconfined, _, _) = await RunAsync("seccompunconfined", TestImageNames.Busybox, ["unshare", "-U", "true"], c => Profile(c, SecurityProfile.Types.ProfileType.Unconfined));
        Assert.Equal(0, unconfined.ExitCode);
    }

    [Fact]
    public async Task Read_only_rootfs_refuses_writes_except_to_mounts()
    {
        var (status, _, err) = await RunAsync("readonly", TestImageNames.Busybox, ["sh", "-c", "touch /dev/shm/ok && touch /newfile"], c => c.Linux = new LinuxContainerConfig
        {
            SecurityContext = new LinuxContainerSecurityContext { ReadonlyRootfs = true },
        });
        Assert.NotEqual(0, status.ExitCode);
        Assert.Contains("Read-only file system", err);

        var (writable, _, _) = await RunAsync("writable", TestImageNames.Busybox, ["touch", "/newfile"]);
        Assert.Equal(0, writable.ExitCode);
    }

    [Fact]
    public async Task Privileged_containers_get_every_capability_and_the_host_devices()
    {
        var (podId, pod) = await Pods.RunPodAsync("privileged", p => p.Linux.SecurityContext.Privileged = true);
        var (_, stdout, _) = await Pods.RunToExitAsync(podId, pod, "privileged", TestImageNames.Busybox, ["sh", "-c", "grep CapEff /proc/self/status; ls /dev | wc -l"], c => c.Linux = new LinuxContainerConfig
        {
            SecurityContext = new LinuxContainerSecurityContext { Privileged = true },
        });
        await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        var lines = stdout.Split('\n');
        var caps = CapEff(stdout);
        Assert.NotEqual(0UL, caps & (1UL << 21)); // CAP_SYS_ADMIN
        var hostDevices = Directory.GetFileSystemEntries("/dev").Length;
        Assert.True(int.Parse(lines[^1].Trim()) > 20, $"privileged /dev has only {lines[^1]} entries (host {hostDevices})");
    }

    [Fact]
    public async Task Labels_and_annotations_are_kept()
    {
        var id = await Pods.StartAsync(_podId, _pod, "labelled", TestImageNames.Busybox, ["true"], c =>
        {
            c.Labels["tier"] = "backend";
            c.Annotations["note"] = "kept verbatim";
        });
        var status = await Pods.WaitForExitAsync(id);
        Assert.Equal("backend", status.Labels["tier"]);
        Assert.Equal("kept verbatim", status.Annotations["note"]);
        var listed = await fixture.Runtime.ListContainersAsync(new ListContainersRequest { Filter = new ContainerFilter { LabelSelector = { ["tier"] = "backend" }, PodSandboxId = _podId } });
        Assert.Equal(id, Assert.Single(listed.Containers).Id);
    }
}

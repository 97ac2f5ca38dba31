using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;
using Xunit;

namespace Crisp.E2E.Runtime;

/// <summary>
/// A CDI spec the test writes: the container gets its renamed device node, its mount and its env var. The node is
/// /dev/loop-control (10:237): runc allows /dev/null and /dev/net/tun by default, so only a node outside its defaults
/// shows that the rule came from the CDI spec.
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class CdiDeviceTests(RegistryWithImages registry) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crisp-e2e-cdi-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public async Task The_container_sees_the_CDI_device_mount_and_env_and_its_device_cgroup_allows_the_node()
    {
        var cdiDir = Directory.CreateDirectory(Path.Combine(_dir, "cdi")).FullName;
        var shared = Directory.CreateDirectory(Path.Combine(_dir, "shared")).FullName;
        File.WriteAllText(Path.Combine(shared, "hello.txt"), "from cdi");
        File.WriteAllText(Path.Combine(cdiDir, "example.yaml"), $"""
            cdiVersion: 0.6.0
            kind: example.com/dev
            devices:
              - name: tun
                containerEdits:
                  env: [CRISP_CDI=on]
                  deviceNodes:
                    - path: /dev/crisp-loop-control
                      hostPath: /dev/loop-control
                      permissions: rw
                  mounts:
                    - hostPath: {shared}
                      containerPath: /cdi-shared
                      options: [ro, rbind]
            """);
        await using var daemon = await CrispDaemon.StartAsync(new DaemonOptions { Flags = ["--runtime-cdi-spec-dirs", cdiDir] });
        var reference = registry.Reference(TestImageNames.Busybox);
        await daemon.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = reference } });
        var pods = new PodHelper(daemon, null);
        var (podId, pod) = await pods.RunPodAsync("cdi");
        var config = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = "cdi" },
            Image = new ImageSpec { Image = reference },
            Command = { "sleep", "600" },
            CDIDevices = { new CDIDevice { Name = "example.com/dev=tun" } },
        };
        var id = await pods.CreateAsync(podId, pod, config);
        await daemon.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id });

        var result = await pods.ExecAsync(id, 10, "sh", "-c", "ls -l /dev/crisp-loop-control; cat /cdi-shared/hello.txt; echo; echo $CRISP_CDI");
        var output = PodHelper.Utf8(result.Stdout);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("10, 237", output);
        Assert.Contains("from cdi", output);
        Assert.Contains("on", output.Split('\n').Select(l => l.Trim()));

        var status = await daemon.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id, Verbose = true });
        using var info = System.Text.Json.JsonDocument.Parse(status.Info["info"]);
        var cgroupsPath = info.RootElement.GetProperty("cgroupsPath").GetString()!;
        Skip.If(HostCgroups.IsV2, "devices.list exists on cgroup v1 only");
        var rules = File.ReadAllLines(Path.Combine(HostCgroups.DirectoryOf(cgroupsPath, "devices"), "devices.list"));
        Assert.True(rules.Contains("c 10:237 rw"), string.Join(" | ", rules));
        Assert.DoesNotContain(rules, r => r.StartsWith("a ", StringComparison.Ordinal));

        await daemon.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await daemon.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
    }
}

using Crisp.Cri.V1;
using Crisp.E2E.Fixtures;
using Crisp.E2E.Runtime;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Security;

/// <summary>
/// AppArmor and SELinux requests over the socket on a host that has neither (skipped where it has them): the defaults
/// run unconfined and unlabeled, a named AppArmor profile is refused naming the field and leaves no container.
/// </summary>
[Collection(RuntimeCollection.Name)]
public sealed class LsmWithoutHostSupportTests(RuntimeFixture fixture)
{
    private PodHelper Pods => fixture.Pods;

    private static bool HostHasLsm =>
        File.Exists("/sys/module/apparmor/parameters/enabled") && File.ReadAllText("/sys/module/apparmor/parameters/enabled").Trim() == "Y"
        || File.Exists("/sys/fs/selinux/enforce");

    [SkippableFact]
    public async Task Defaults_run_and_a_localhost_profile_is_refused()
    {
        Skip.If(HostHasLsm, "this host has AppArmor or SELinux");
        var (podId, pod) = await Pods.RunPodAsync("lsm", p =>
            p.Linux.SecurityContext.SelinuxOptions = new SELinuxOption { Type = "spc_t", Level = "s0:c1,c2" });
        try
        {
            var (status, _, _) = await Pods.RunToExitAsync(podId, pod, "default", TestImageNames.Busybox, ["true"], c =>
                c.Linux = new LinuxContainerConfig
                {
                    SecurityContext = new LinuxContainerSecurityContext
                    {
                        Apparmor = new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.RuntimeDefault },
                        SelinuxOptions = new SELinuxOption { Type = "container_t" },
                    },
                });
            Assert.Equal(0, status.ExitCode);

            var before = (await fixture.Runtime.ListContainersAsync(new ListContainersRequest())).Containers.Count;
            var refused = await Assert.ThrowsAsync<RpcException>(async () => await Pods.CreateAsync(podId, pod,
                await Pods.ContainerConfigAsync("named", TestImageNames.Busybox, ["true"], c =>
                    c.Linux = new LinuxContainerConfig
                    {
                        SecurityContext = new LinuxContainerSecurityContext
                        {
                            Apparmor = new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.Localhost, LocalhostRef = "mine" },
                        },
                    })));
            Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
            Assert.Contains("linux.security_context.apparmor", refused.Status.Detail);
            Assert.Equal(before, (await fixture.Runtime.ListContainersAsync(new ListContainersRequest())).Containers.Count);
        }
        finally
        {
            await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
            await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        }
    }
}

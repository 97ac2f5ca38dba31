using System.Text.Json.Nodes;
using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Tests.Fakes;
using Xunit;

namespace Crisp.Runtime.Tests.Lsm;

/// <summary>AppArmor decisions as CreateContainer applies them: into config.json, or a refusal that leaves nothing.</summary>
public sealed class AppArmorCreateTests : IDisposable
{
    private readonly RuntimeHarness _runtime = new();

    public void Dispose() => _runtime.Dispose();

    private static CreateContainerRequest WithProfile(string sandboxId, SecurityProfile profile)
    {
        var request = RuntimeHarness.ContainerRequest(sandboxId);
        request.Config.Linux = new LinuxContainerConfig { SecurityContext = new LinuxContainerSecurityContext { Apparmor = profile } };
        return request;
    }

    [Fact]
    public async Task A_Localhost_profile_on_a_host_without_AppArmor_fails_the_create_and_leaves_no_container()
    {
        var pod = await _runtime.RunPodAsync();
        var e = await Assert.ThrowsAsync<RuntimeException>(() => _runtime.Creator.CreateContainerAsync(
            WithProfile(pod, new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.Localhost, LocalhostRef = "mine" }), CancellationToken.None));
        Assert.Equal(RuntimeErrorKind.InvalidArgument, e.Kind);
        Assert.Empty(_runtime.Store.Containers);
        Assert.Empty(_runtime.Handler.Known);
    }

    [Fact]
    public async Task With_AppArmor_the_default_profile_lands_in_the_spec()
    {
        _runtime.AppArmor.Enabled = true;
        var pod = await _runtime.RunPodAsync();
        var id = await _runtime.CreateContainerAsync(pod);
        var spec = JsonNode.Parse(_runtime.Store.FindContainer(id)!.SpecJson)!;
        Assert.Equal("crisp-default", (string?)spec["process"]!["apparmorProfile"]);
    }
}

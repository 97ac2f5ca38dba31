using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Lsm;
using Crisp.Runtime.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.Runtime.Tests.Lsm;

public sealed class AppArmorProfilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crisp-apparmor-").FullName;
    private readonly FakeAppArmorHost _host = new();
    private readonly AppArmorProfiles _profiles;

    public AppArmorProfilesTests() =>
        _profiles = new AppArmorProfiles(_host, Path.Combine(_dir, "apparmor"), NullLogger<AppArmorProfiles>.Instance);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static LinuxContainerSecurityContext Profile(SecurityProfile.Types.ProfileType type, string localhostRef = "", bool privileged = false) =>
        new() { Apparmor = new SecurityProfile { ProfileType = type, LocalhostRef = localhostRef }, Privileged = privileged };

#pragma warning disable CS0612 // the deprecated string form older kubelets send
    private static LinuxContainerSecurityContext Legacy(string profile) => new() { ApparmorProfile = profile };
#pragma warning restore CS0612

    private Task<string?> Resolve(LinuxContainerSecurityContext? sc) => _profiles.ResolveAsync(sc, "app", CancellationToken.None);

    [Fact]
    public async Task Without_AppArmor_RuntimeDefault_and_Unconfined_run_unconfined()
    {
        Assert.Null(await Resolve(null));
        Assert.Null(await Resolve(new LinuxContainerSecurityContext()));
        Assert.Null(await Resolve(Profile(SecurityProfile.Types.ProfileType.RuntimeDefault)));
        Assert.Null(await Resolve(Profile(SecurityProfile.Types.ProfileType.Unconfined)));
        Assert.Null(await Resolve(Legacy("runtime/default")));
        Assert.Null(await Resolve(Legacy("unconfined")));
        Assert.Empty(_host.LoadedFiles);
    }

    [Fact]
    public async Task Without_AppArmor_a_Localhost_profile_is_refused_naming_the_field()
    {
        _host.Loaded.Add("mine");
        foreach (var sc in new[] { Profile(SecurityProfile.Types.ProfileType.Localhost, "mine"), Legacy("localhost/mine") })
        {
            var e = await Assert.ThrowsAsync<RuntimeException>(() => Resolve(sc));
            Assert.Equal(RuntimeErrorKind.InvalidArgument, e.Kind);
            Assert.Contains("linux.security_context.apparmor", e.Message);
            Assert.Contains("\"mine\"", e.Message);
        }
    }

    [Fact]
    public async Task With_AppArmor_RuntimeDefault_loads_crisp_default_once_and_applies_it()
    {
        _host.Enabled = true;
        Assert.Equal("crisp-default", await Resolve(null));
        Assert.Equal("crisp-default", await Resolve(Profile(SecurityProfile.Types.ProfileType.RuntimeDefault)));
        Assert.Equal("crisp-default", await Resolve(Legacy("runtime/default")));
        var file = Assert.Single(_host.LoadedFiles);
        Assert.Equal(Path.Combine(_dir, "apparmor", "crisp-default"), file);
        Assert.Contains("profile crisp-default ", File.ReadAllText(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(file)!));
    }

    [Fact]
    public async Task With_AppArmor_privileged_containers_get_no_default_but_keep_an_explicit_profile()
    {
        _host.Enabled = true;
        _host.Loaded.Add("mine");
        Assert.Null(await Resolve(Profile(SecurityProfile.Types.ProfileType.RuntimeDefault, privileged: true)));
        Assert.Null(await Resolve(new LinuxContainerSecurityContext { Privileged = true }));
        Assert.Equal("mine", await Resolve(Profile(SecurityProfile.Types.ProfileType.Localhost, "mine", privileged: true)));
        Assert.Empty(_host.LoadedFiles);
    }

    [Fact]
    public async Task With_AppArmor_Localhost_applies_a_loaded_profile_and_refuses_a_missing_one()
    {
        _host.Enabled = true;
        _host.Loaded.Add("mine");
        Assert.Equal("mine", await Resolve(Profile(SecurityProfile.Types.ProfileType.Localhost, "mine")));
        Assert.Equal("mine", await Resolve(Profile(SecurityProfile.Types.ProfileType.Localhost, "localhost/mine")));
        Assert.Equal("mine", await Resolve(Legacy("localhost/mine")));

        var e = await Assert.ThrowsAsync<RuntimeException>(() => Resolve(Profile(SecurityProfile.Types.ProfileType.Localhost, "other")));
        Assert.Equal(RuntimeErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("linux.security_context.apparmor", e.Message);
        Assert.Contains("\"other\" is not loaded", e.Message);
    }

    [Fact]
    public async Task With_AppArmor_Unconfined_applies_none()
    {
        _host.Enabled = true;
        Assert.Null(await Resolve(Profile(SecurityProfile.Types.ProfileType.Unconfined)));
        Assert.Null(await Resolve(Legacy("unconfined")));
        Assert.Empty(_host.LoadedFiles);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Malformed_requests_are_refused_naming_the_field(bool enabled)
    {
        _host.Enabled = enabled;
        var bad = await Assert.ThrowsAsync<RuntimeException>(() => Resolve(Legacy("docker-default")));
        Assert.Contains("apparmor_profile", bad.Message);
        var stray = await Assert.ThrowsAsync<RuntimeException>(() => Resolve(Profile(SecurityProfile.Types.ProfileType.RuntimeDefault, "x")));
        Assert.Contains("apparmor.localhost_ref", stray.Message);
        var unnamed = await Assert.ThrowsAsync<RuntimeException>(() => Resolve(Profile(SecurityProfile.Types.ProfileType.Localhost)));
        Assert.Contains("apparmor.localhost_ref", unnamed.Message);
    }
}

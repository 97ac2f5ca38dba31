using Crisp.Runtime.Api;
using Crisp.Runtime.Cgroups;
using Xunit;

namespace Crisp.Runtime.Tests.Cgroups;

public sealed class SystemdPresenceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crisp-sd-booted-").FullName;

    private string Marker => Path.Combine(_dir, "system");

    [Fact]
    public void Booted_only_when_the_marker_is_a_real_directory()
    {
        Assert.False(SystemdPresence.IsBooted(Marker));
        File.WriteAllText(Marker, "");
        Assert.False(SystemdPresence.IsBooted(Marker));
        File.Delete(Marker);
        // lstat, as sd_booted: a symlink to a directory is not systemd's own runtime directory.
        Directory.CreateSymbolicLink(Marker, _dir);
        Assert.False(SystemdPresence.IsBooted(Marker));
        File.Delete(Marker);
        Directory.CreateDirectory(Marker);
        Assert.True(SystemdPresence.IsBooted(Marker));
    }

    [Fact]
    public void The_systemd_driver_is_refused_without_systemd_naming_the_check_and_the_way_out()
    {
        var e = Assert.Throws<RuntimeException>(() => CgroupManagerFactory.RequireUsableDriver("systemd", Marker));
        Assert.Equal(RuntimeErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains(Marker, e.Message);
        Assert.Contains("PID 1", e.Message);
        Assert.Contains("cgroup_driver = \"cgroupfs\"", e.Message);
        Assert.Throws<RuntimeException>(() => CgroupManagerFactory.Create(new HostFeatures(true, 0, true), "systemd", Marker));

        CgroupManagerFactory.RequireUsableDriver("cgroupfs", Marker);
        Directory.CreateDirectory(Marker);
        CgroupManagerFactory.RequireUsableDriver("systemd", Marker);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

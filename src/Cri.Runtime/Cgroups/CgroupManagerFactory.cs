using Crisp.Runtime.Api;
using Crisp.Runtime.Host;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Cgroups;

public static class CgroupManagerFactory
{
    /// <summary>
    /// The manager for this host's hierarchy (<see cref="HostFeatures.CgroupV2"/>) and the configured driver.
    /// The systemd driver changes naming (pod slices, container scopes "slice:crisp:id") and the mapping onto the
    /// slice tree on disk; the runtime creates the units (runc --systemd-cgroup). It is refused on a host whose
    /// init is not systemd (see <see cref="RequireUsableDriver"/>).
    /// </summary>
    public static ICgroupManager Create(HostFeatures host, string driver, string systemdMarker = SystemdPresence.MarkerDirectory)
    {
        RequireUsableDriver(driver, systemdMarker);
        var naming = CgroupNaming.For(driver);
        return host.CgroupV2 ? new CgroupV2Manager(naming) : new CgroupV1Manager(naming);
    }

    /// <summary>
    /// Refuses the systemd driver where systemd is not PID 1: runc would fail every container create much later,
    /// with a D-Bus error, so crispd stops at start instead.
    /// </summary>
    public static void RequireUsableDriver(string driver, string systemdMarker = SystemdPresence.MarkerDirectory)
    {
        if (!string.Equals(driver, "systemd", StringComparison.OrdinalIgnoreCase) || SystemdPresence.IsBooted(systemdMarker)) return;
        throw new RuntimeException(RuntimeErrorKind.FailedPrecondition,
            $"runtime.cgroup_driver = \"systemd\" needs systemd as the init system (PID 1), but {systemdMarker} is not a directory " +
            "(sd_booted); use cgroup_driver = \"cgroupfs\" on this host");
    }

    /// <summary>Detects the host's hierarchy and uses <see cref="RuntimeOptions.CgroupDriver"/>.</summary>
    public static ICgroupManager Create(RuntimeOptions options, ILoggerFactory loggerFactory)
    {
        var manager = Create(HostFeatureDetector.Detect(), options.CgroupDriver);
        loggerFactory.CreateLogger(typeof(CgroupManagerFactory)).LogInformation(
            "cgroup manager: {Version}, driver {Driver}", manager.IsV2 ? "v2 (unified)" : "v1", manager.Driver);
        return manager;
    }
}
